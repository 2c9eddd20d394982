//! `tree-math.json`: tree arithmetic of RFC 9420 Appendix C.
//!
//! ```text
//! { n_leaves, n_nodes, root, left[], right[], parent[], sibling[] }   null where undefined
//! ```

use concord_reference::tree_math::{self, NodeIndex};
use serde::{Deserialize, Serialize};

use super::{CaseVerdict, MalformedCase, Mismatch, expect_eq, parse_case};

#[derive(Debug, Serialize, Deserialize)]
pub struct Case {
    pub n_leaves: u32,
    pub n_nodes: u32,
    pub root: u32,
    pub left: Vec<Option<u32>>,
    pub right: Vec<Option<u32>>,
    pub parent: Vec<Option<u32>>,
    pub sibling: Vec<Option<u32>>,
}

pub fn check(case_index: usize, case: &serde_json::Value) -> Result<CaseVerdict, MalformedCase> {
    let case: Case = parse_case(case_index, case)?;
    Ok(match verify(&case) {
        Ok(()) => CaseVerdict::Passed,
        Err(Mismatch { field, detail }) => CaseVerdict::Failed { field, detail },
    })
}

fn verify(case: &Case) -> Result<(), Mismatch> {
    let n = case.n_leaves;
    expect_eq("n_nodes", tree_math::node_width(n), case.n_nodes)?;
    expect_eq("root", tree_math::root(n).0, case.root)?;
    type Relation<'a> = &'a dyn Fn(NodeIndex) -> Option<NodeIndex>;
    let columns: [(&str, &Vec<Option<u32>>, Relation); 4] = [
        ("left", &case.left, &tree_math::left),
        ("right", &case.right, &tree_math::right),
        ("parent", &case.parent, &|x| tree_math::parent(x, n)),
        ("sibling", &case.sibling, &|x| tree_math::sibling(x, n)),
    ];
    for (name, expected, compute) in columns {
        expect_eq(
            &format!("{name} (length)"),
            expected.len(),
            case.n_nodes as usize,
        )?;
        for (x, want) in expected.iter().enumerate() {
            let got = compute(NodeIndex(x as u32)).map(|i| i.0);
            expect_eq(&format!("{name}[{x}]"), got, *want)?;
        }
    }
    Ok(())
}
