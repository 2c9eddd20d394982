//! `report.json`: the [`Report`] itself, pretty-printed, with its `schema_version`
//! (`reports/schema/report.schema.json` describes it). `concord report --from` reads it back.

use crate::model::Report;

/// The text of `report.json`.
pub fn render(report: &Report) -> String {
    // A Report holds only strings, numbers, booleans and lists: serializing cannot fail,
    // but an error still yields valid JSON that says so rather than a panic.
    match serde_json::to_string_pretty(report) {
        Ok(text) => text + "\n",
        Err(e) => format!(
            "{{\"schema_version\": {}, \"error\": {:?}}}\n",
            crate::model::SCHEMA_VERSION,
            e.to_string()
        ),
    }
}
