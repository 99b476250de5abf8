//! Host tests: what the parser accepts and rejects, and that the expansion
//! is well-formed Rust.

use crate::expand::expand;
use crate::model::{FieldType, Interface};

/// Parses `source` as an interface.
fn parse(source: &str) -> syn::Result<Interface> {
    syn::parse_str(source)
}

/// The error message for `source`, which must not parse.
fn error(source: &str) -> String {
    match parse(source) {
        Ok(_) => panic!("accepted: {source}"),
        Err(error) => error.to_string(),
    }
}

const ECHO: &str = "
    /// Echo and arithmetic service.
    pub interface Echo {
        /// One-way message.
        message log(level: u8, text: Str<200>);
        rpc add(a: u32, b: u32) -> (sum: u64);
        rpc echo(data: Bytes<1000>, flag: bool) -> (data: Bytes<1000>);
        rpc grant(frame: Cap, size: u64) -> (ok: bool);
        rpc null() -> ();
        rpc table(values: [u16; 12], named: Bytes<{ 4 * LIMIT }>, other: Str<LIMIT>,) -> (total: u32);
    }";

#[test]
fn parses_every_field_type() {
    let interface = parse(ECHO).unwrap();
    assert_eq!(interface.name, "Echo");
    assert_eq!(interface.messages.len(), 6);
    assert!(interface.messages[0].results.is_none());
    assert_eq!(interface.messages[4].results.as_ref().map(Vec::len), Some(0));
    let table = &interface.messages[5];
    assert!(matches!(&table.fields[0].kind, FieldType::Array(element, _) if element == "u16"));
    assert!(matches!(table.fields[1].kind, FieldType::Bytes(_)));
    assert!(matches!(table.fields[2].kind, FieldType::Str(_)));
    assert!(interface.messages[3].fields[0].is_cap());
    assert!(interface.requests_carry_caps() && !interface.replies_carry_caps());
}

#[test]
fn expansion_is_valid_rust() {
    let interface = parse(ECHO).unwrap();
    let file: syn::File = syn::parse2(expand(&interface)).unwrap();
    let names: Vec<String> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(item) => Some(item.ident.to_string()),
            syn::Item::Enum(item) => Some(item.ident.to_string()),
            syn::Item::Trait(item) => Some(item.ident.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["Echo", "EchoRequest", "EchoReply", "EchoClient", "EchoServer", "EchoDispatcher"]);
}

#[test]
fn rejects_unsupported_types() {
    for ty in
        ["f32", "Vec<u8>", "[f32; 3]", "[Bytes<3>; 2]", "Bytes<1, 2>", "Bytes", "&u8", "core::u8", "Cap<u8>"]
    {
        let source = format!("interface I {{ message m(x: {ty}); }}");
        assert!(error(&source).contains("field type") || error(&source).contains("array elements"), "{ty}");
    }
}

#[test]
fn rejects_clashing_names() {
    assert!(error("interface I { message new(); }").contains("clashes"));
    assert!(error("interface I { rpc recv_reply() -> (); }").contains("clashes"));
    assert!(error("interface I { message serve(); }").contains("clashes"));
    assert!(error("interface I { rpc foo() -> (); message send_foo(); }").contains("clashes"));
    assert!(error("interface I { message a(); message a(); }").contains("clashes"));
    assert!(error("interface I { message names(); }").contains("generated tables"));
    assert!(error("interface I { message a(x: u8, x: u16); }").contains("duplicate field"));
    assert!(error("interface I { rpc a() -> (x: u8, x: u8); }").contains("duplicate field"));
    assert!(error("interface I { message a(__x: u8); }").contains("__"));
    assert!(error("interface I { message __a(); }").contains("__"));
}

#[test]
fn rejects_malformed_declarations() {
    assert!(error("interface I { }").contains("at least one"));
    assert!(error("interface I { #[inline] message a(); }").contains("doc comments"));
    assert!(error("#[derive(Debug)] interface I { message a(); }").contains("doc comments"));
    assert!(error("interface I { call a(); }").contains("expected `message"));
    assert!(error("interface I { rpc a(); }").contains("expected `->`"));
    assert!(error("interface I { message a() }").contains("expected `;`"));
    assert!(error("interface I { message a(); } extra").contains("nothing after"));
    let many: String = (0..257).map(|index| format!("message m{index}();")).collect();
    assert!(error(&format!("interface I {{ {many} }}")).contains("at most 256"));
    let most: String = (0..256).map(|index| format!("message m{index}();")).collect();
    assert!(parse(&format!("interface I {{ {most} }}")).is_ok());
}
