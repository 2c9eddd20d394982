use super::*;

/// IDs that code cited before the catalog became data: they keep section and level.
const LEGACY: &[(&str, &str, Level)] = &[
    ("RFC9420-2.1.2-1", "2.1.2", Level::Must),
    ("RFC9420-2.1.2-2", "2.1.2", Level::MustNot),
    ("RFC9420-4.1.1-1", "4.1.1", Level::Must),
    ("RFC9420-4.1.2-1", "4.1.2", Level::Must),
    ("RFC9420-4.2-1", "4.2", Level::Must),
    ("RFC9420-5.1.2-1", "5.1.2", Level::Must),
    ("RFC9420-5.1.3-1", "5.1.3", Level::Must),
    ("RFC9420-5.2-1", "5.2", Level::Must),
    ("RFC9420-6.1-1", "6.1", Level::Must),
    ("RFC9420-6.2-1", "6.2", Level::Must),
    ("RFC9420-6.3.1-1", "6.3.1", Level::Must),
    ("RFC9420-6.3.1-2", "6.3.1", Level::Must),
    ("RFC9420-6.3.2-1", "6.3.2", Level::Must),
    ("RFC9420-6.3.2-2", "6.3.2", Level::Must),
    ("RFC9420-7.3-2", "7.3", Level::Must),
    ("RFC9420-7.4-1", "7.4", Level::Must),
    ("RFC9420-7.5-1", "7.5", Level::Must),
    ("RFC9420-7.6-1", "7.6", Level::Must),
    ("RFC9420-7.7-1", "7.7", Level::Must),
    ("RFC9420-7.8-1", "7.8", Level::Must),
    ("RFC9420-7.9-1", "7.9", Level::Must),
    ("RFC9420-7.9.2-1", "7.9.2", Level::Must),
    ("RFC9420-8-1", "8", Level::Must),
    ("RFC9420-8.2-1", "8.2", Level::Must),
    ("RFC9420-8.4-1", "8.4", Level::Must),
    ("RFC9420-8.5-1", "8.5", Level::Must),
    ("RFC9420-9-1", "9", Level::Must),
    ("RFC9420-9.1-1", "9.1", Level::Must),
    ("RFC9420-12.1.1-1", "12.1.1", Level::Must),
    ("RFC9420-12.1.2-1", "12.1.2", Level::Must),
    ("RFC9420-12.1.3-1", "12.1.3", Level::Must),
    ("RFC9420-12.2-1", "12.2", Level::Must),
    ("RFC9420-12.3-1", "12.3", Level::Must),
    ("RFC9420-12.4.2-1", "12.4.2", Level::Must),
    ("RFC9420-12.4.3.1-1", "12.4.3.1", Level::Must),
    ("RFC9420-12.4.3.1-2", "12.4.3.1", Level::Must),
    ("RFC9420-12.4.3.1-3", "12.4.3.1", Level::Must),
    ("RFC9420-12.4.3.1-4", "12.4.3.1", Level::Must),
    ("RFC9420-12.4.3.1-5", "12.4.3.1", Level::Must),
];

#[test]
fn every_compiled_file_loads() {
    for (path, text) in compiled_files() {
        if let Err(error) = parse_file(path, text) {
            panic!("{error}");
        }
    }
    let catalog = match catalog() {
        Ok(catalog) => catalog,
        Err(error) => panic!("{error}"),
    };
    // One file per top-level section of RFC 9420, s01 to s17.
    for section in 1..=17 {
        let path = format!("rfc9420/s{section:02}.toml");
        assert!(
            compiled_files().iter().any(|(p, _)| *p == path),
            "{path} is not compiled in"
        );
    }
    assert_eq!(catalog.documents()[0].name, "RFC9420");
    let rfc = &catalog.documents()[0];
    assert_eq!(rfc.top_section_title("12"), Some("Group Evolution"));
    assert_eq!(rfc.top_section_title("18"), None);
    // Where an entry sits at a top-level section, its title is the table's; every
    // top-level section with entries has a title.
    for document in catalog.documents() {
        for r in &document.requirements {
            let title = document.top_section_title(r.top_section());
            assert!(title.is_some(), "no title for section {}", r.top_section());
            if !r.section.contains('.') {
                assert_eq!(title, Some(r.title.as_str()), "{}", r.id);
            }
        }
    }
    assert_eq!(catalog.rfc9420().len(), RFC9420.len());
    assert_eq!(
        catalog.len(),
        catalog.requirements().count(),
        "the index covers every requirement"
    );
    // Sections 1 to 11 hold at least one statement per RFC 2119 keyword of the text.
    assert!(
        catalog.rfc9420().len() >= 171,
        "{}",
        catalog.rfc9420().len()
    );
}

#[test]
fn legacy_ids_keep_their_meaning() {
    for (id, section, level) in LEGACY {
        let requirement = requirement(id).unwrap_or_else(|| panic!("{id} is gone"));
        assert_eq!(requirement.section, *section, "{id}");
        assert_eq!(requirement.level, *level, "{id}");
    }
}

#[test]
fn lookup_finds_known_ids_only() {
    assert_eq!(
        requirement("RFC9420-2.1.2-1").map(|r| r.section.as_str()),
        Some("2.1.2")
    );
    assert!(requirement("RFC9420-99-1").is_none());
    assert!(RFC9420.iter().any(|r| r.id == "RFC9420-12.4.3.1-5"));
    let mut count = 0;
    for r in RFC9420 {
        assert!(r.id.starts_with("RFC9420-"));
        count += 1;
    }
    assert_eq!(count, RFC9420.len());
}

#[test]
fn requirement_sections_nest_by_dots() {
    let r = |section: &str| Requirement {
        id: format!("RFC9420-{section}-1"),
        section: section.to_owned(),
        title: "t".into(),
        level: Level::Must,
        binds: Binds::Client,
        summary: "s".into(),
        justified: None,
    };
    assert!(r("12.4.2").is_in_section("12.4"));
    assert!(r("12.4").is_in_section("12.4"));
    assert!(!r("12.40").is_in_section("12.4"));
    assert!(!r("1.2").is_in_section("12"));
    assert_eq!(r("12.4.2").top_section(), "12");
}

fn entry(fields: &[(&str, &str)]) -> String {
    let mut text = String::from("[[requirement]]\n");
    for (key, value) in fields {
        text.push_str(&format!("{key} = {value}\n"));
    }
    text
}

const GOOD: &[(&str, &str)] = &[
    ("id", "\"RFC9420-7.3-1\""),
    ("section", "\"7.3\""),
    ("title", "\"Leaf Node Validation\""),
    ("level", "\"MUST\""),
    ("binds", "\"client\""),
    ("summary", "\"A member checks a leaf.\""),
];

/// GOOD with one field replaced (or removed, for `None`).
fn with(key: &str, value: Option<&str>) -> String {
    let fields: Vec<(&str, &str)> = GOOD
        .iter()
        .filter_map(|(k, v)| {
            if *k == key {
                value.map(|value| (*k, value))
            } else {
                Some((*k, *v))
            }
        })
        .collect();
    entry(&fields)
}

fn kind_of(path: &str, text: &str) -> (Option<usize>, ErrorKind) {
    match parse_file(path, text) {
        Ok(parsed) => panic!("accepted: {parsed:?}"),
        Err(error) => {
            assert_eq!(error.file, path);
            // The message names file, entry and field, and never panics on any of them.
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("spec/catalog/{path}")),
                "{message}"
            );
            if let Some(field) = error.kind.field() {
                assert!(message.contains(&format!("`{field}`")), "{message}");
            }
            (error.entry, error.kind)
        }
    }
}

#[test]
fn a_good_entry_parses() {
    let parsed = parse_file("rfc9420/s07.toml", &with("", None)).map_err(|e| e.to_string());
    let parsed = parsed.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.requirements.len(), 1);
    let r = &parsed.requirements[0];
    assert_eq!(r.id, "RFC9420-7.3-1");
    assert_eq!(r.level, Level::Must);
    assert_eq!(r.binds, Binds::Client);
    assert_eq!(r.justified, None);
    assert!(!r.is_justified());
    assert_eq!(parsed.document.name, "RFC9420");
}

#[test]
fn an_entry_may_carry_a_justification() {
    let text = format!(
        "{}justified = \"erasure of secrets from memory\"\n",
        with("", None)
    );
    let parsed = parse_file("rfc9420/s07.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let r = &parsed.requirements[0];
    assert_eq!(
        r.justified.as_deref(),
        Some("erasure of secrets from memory")
    );
    assert!(r.is_justified());
    // Empty or not a string: refused, naming the field.
    let (entry, kind) = kind_of(
        "rfc9420/s07.toml",
        &format!("{}justified = \" \"\n", with("", None)),
    );
    assert_eq!(
        (entry, kind),
        (Some(1), ErrorKind::EmptyField { field: "justified" })
    );
    let (entry, kind) = kind_of(
        "rfc9420/s07.toml",
        &format!("{}justified = true\n", with("", None)),
    );
    assert_eq!(
        (entry, kind),
        (
            Some(1),
            ErrorKind::NotAString {
                field: "justified".into()
            }
        )
    );
    // Every justification of the shipped catalog says something.
    for r in catalog().map(|c| c.requirements()).into_iter().flatten() {
        if let Some(reason) = &r.justified {
            assert!(reason.trim().len() >= 10, "{}: {reason:?}", r.id);
        }
    }
}

#[test]
fn the_loader_rejects_each_kind_of_malformed_input() {
    let s07 = "rfc9420/s07.toml";
    let good = with("", None);
    let cases: Vec<(&str, String, Option<usize>, ErrorKind)> = vec![
        (
            "rfc9420/s7.toml",
            good.clone(),
            None,
            ErrorKind::UnknownFile,
        ),
        (
            s07,
            with("level", Some("\"MUSTN'T\"")),
            Some(1),
            ErrorKind::UnknownLevel {
                value: "MUSTN'T".into(),
            },
        ),
        (
            s07,
            with("level", Some("\"REQUIRED\"")),
            Some(1),
            ErrorKind::UnknownLevel {
                value: "REQUIRED".into(),
            },
        ),
        (
            s07,
            with("binds", Some("\"hub\"")),
            Some(1),
            ErrorKind::UnknownBinds {
                value: "hub".into(),
                allowed: vec!["client", "delivery-service", "both"],
            },
        ),
        (
            s07,
            with("summary", Some("\"  \"")),
            Some(1),
            ErrorKind::EmptyField { field: "summary" },
        ),
        (
            s07,
            with("summary", None),
            Some(1),
            ErrorKind::MissingField { field: "summary" },
        ),
        (
            s07,
            with("title", Some("7")),
            Some(1),
            ErrorKind::NotAString {
                field: "title".into(),
            },
        ),
        (
            s07,
            format!("{good}note = \"x\"\n"),
            Some(1),
            ErrorKind::UnknownField {
                field: "note".into(),
            },
        ),
        (
            s07,
            with("id", Some("\"RFC9420-7.3\"")),
            Some(1),
            ErrorKind::MalformedId {
                id: "RFC9420-7.3".into(),
                expected: "RFC9420-<section>-<n>".into(),
            },
        ),
        (
            s07,
            with("id", Some("\"RFC9420-7.3-01\"")),
            Some(1),
            ErrorKind::MalformedId {
                id: "RFC9420-7.3-01".into(),
                expected: "RFC9420-<section>-<n>".into(),
            },
        ),
        (
            s07,
            with("id", Some("\"RFC-9420-7.3-1\"")),
            Some(1),
            ErrorKind::MalformedId {
                id: "RFC-9420-7.3-1".into(),
                expected: "RFC9420-<section>-<n>".into(),
            },
        ),
        (
            s07,
            with("id", Some("\"RFC9420-7.2-1\"")),
            Some(1),
            ErrorKind::SectionMismatch {
                id: "RFC9420-7.2-1".into(),
                section: "7.3".into(),
            },
        ),
        (
            s07,
            with("section", Some("\"7.3.\"")),
            Some(1),
            ErrorKind::MalformedSection {
                section: "7.3.".into(),
            },
        ),
        (
            "rfc9420/s06.toml",
            good.clone(),
            Some(1),
            ErrorKind::SectionOutsideFile {
                section: "7.3".into(),
                top_section: 6,
            },
        ),
        (
            s07,
            format!("{good}{good}"),
            Some(2),
            ErrorKind::DuplicateId {
                id: "RFC9420-7.3-1".into(),
                first_file: s07.into(),
                first_entry: 1,
            },
        ),
        (
            s07,
            format!("document = \"draft-ietf-mimi-protocol-06\"\n{good}"),
            None,
            ErrorKind::UnknownField {
                field: "document".into(),
            },
        ),
    ];
    for (path, text, entry, expected) in cases {
        let (got_entry, got) = kind_of(path, &text);
        assert_eq!((got_entry, &got), (entry, &expected), "{text}");
    }
}

#[test]
fn invalid_toml_is_reported_with_its_line() {
    let text = format!("{}\n[[requirement]\nid = \"x\"\n", with("", None));
    let (entry, kind) = kind_of("rfc9420/s07.toml", &text);
    assert_eq!(entry, None);
    match kind {
        ErrorKind::Toml { line, message } => {
            assert_eq!(line, Some(9), "{message}");
            assert!(!message.is_empty());
        }
        other => panic!("{other:?}"),
    }
    // Valid TOML of the wrong shape: `requirement` must be an array of tables.
    let (_, kind) = kind_of("rfc9420/s07.toml", "requirement = \"all of them\"\n");
    assert!(matches!(kind, ErrorKind::Toml { .. }), "{kind:?}");
}

const MIMI_HEADER: &str =
    "document = \"draft-ietf-mimi-protocol-06\"\nprofile = \"concord-2026\"\n";

fn mimi_entry(binds: &str) -> String {
    entry(&[
        ("id", "\"MIMI-PROTOCOL-5.3-1\""),
        ("section", "\"5.3\""),
        ("title", "\"Fanout\""),
        ("level", "\"MUST\""),
        ("binds", binds),
        (
            "summary",
            "\"The hub fans a message out to every follower.\"",
        ),
    ])
}

#[test]
fn mimi_files_carry_document_and_profile() {
    let path = "mimi-protocol.toml";
    let parsed = parse_file(path, &format!("{MIMI_HEADER}{}", mimi_entry("\"hub\"")))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.document.name, "draft-ietf-mimi-protocol-06");
    assert_eq!(parsed.document.profile.as_deref(), Some("concord-2026"));
    assert_eq!(parsed.document.id_prefix, "MIMI-PROTOCOL");
    assert_eq!(parsed.requirements[0].binds, Binds::Hub);

    let (_, kind) = kind_of(path, &mimi_entry("\"hub\""));
    assert_eq!(kind, ErrorKind::MissingField { field: "document" });
    let (_, kind) = kind_of(
        path,
        &format!(
            "document = \"draft-ietf-mimi-protocol\"\nprofile = \"p\"\n{}",
            mimi_entry("\"hub\"")
        ),
    );
    assert!(
        matches!(kind, ErrorKind::MalformedDocument { .. }),
        "{kind:?}"
    );
    let (_, kind) = kind_of(
        path,
        &format!("{MIMI_HEADER}{}", mimi_entry("\"delivery-service\"")),
    );
    assert!(matches!(kind, ErrorKind::UnknownBinds { .. }), "{kind:?}");
    // An RFC ID in a MIMI file is malformed there.
    let (_, kind) = kind_of(path, &format!("{MIMI_HEADER}{}", with("", None)));
    assert!(matches!(kind, ErrorKind::MalformedId { .. }), "{kind:?}");
}

#[test]
fn ids_are_unique_across_files() {
    let good = with("", None);
    let error = Catalog::from_files(&[("rfc9420/s07.toml", &good), ("rfc9420/s07.toml", &good)]);
    assert_eq!(
        error.map(|c| c.len()),
        Err(CatalogError {
            file: "rfc9420/s07.toml".into(),
            entry: Some(1),
            kind: ErrorKind::DuplicateId {
                id: "RFC9420-7.3-1".into(),
                first_file: "rfc9420/s07.toml".into(),
                first_entry: 1,
            },
        })
    );
    let mimi = format!("{MIMI_HEADER}{}", mimi_entry("\"follower\""));
    let catalog =
        Catalog::from_files(&[("mimi-protocol.toml", &mimi), ("rfc9420/s07.toml", &good)])
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(catalog.len(), 2);
    assert_eq!(catalog.documents().len(), 2);
    assert_eq!(catalog.rfc9420().len(), 1);
    assert_eq!(
        catalog.get("MIMI-PROTOCOL-5.3-1").map(|r| r.binds),
        Some(Binds::Follower)
    );
}
