//! The parsed interface: messages, fields and their types, checked.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{
    braced, parenthesized, Attribute, Error, Expr, GenericArgument, Ident, PathArguments, Result, Token,
    Type, Visibility,
};

mod keyword {
    syn::custom_keyword!(interface);
    syn::custom_keyword!(message);
    syn::custom_keyword!(rpc);
}

/// The integer and boolean types a field may have.
const SCALARS: [&str; 9] = ["u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "bool"];

/// Method names the generated client and dispatcher use themselves.
const RESERVED_METHODS: [&str; 7] =
    ["new", "transport", "into_transport", "recv_reply", "poll_one", "serve_one", "serve"];

/// Constant and function names of the interface struct.
const RESERVED_CONSTS: [&str; 9] = [
    "REQUEST_SHAPES",
    "REPLY_SHAPES",
    "MAX_REQUEST_BYTES",
    "MAX_REPLY_BYTES",
    "REQUEST_WORDS",
    "REPLY_WORDS",
    "REQUEST_CAPS",
    "REPLY_CAPS",
    "NAMES",
];

/// An interface declaration.
pub struct Interface {
    /// Its doc comments.
    pub docs: Vec<Attribute>,
    /// The visibility of the generated items.
    pub visibility: Visibility,
    /// Its name, e.g. `Echo`.
    pub name: Ident,
    /// The messages, in declaration (and numbering) order.
    pub messages: Vec<Message>,
}

/// A one-way message or an RPC.
pub struct Message {
    /// Its doc comments.
    pub docs: Vec<Attribute>,
    /// Its name, e.g. `add`.
    pub name: Ident,
    /// The request fields.
    pub fields: Vec<Field>,
    /// The reply fields; `None` for a one-way message.
    pub results: Option<Vec<Field>>,
}

/// A named, typed field.
pub struct Field {
    /// Its name.
    pub name: Ident,
    /// Its type.
    pub kind: FieldType,
}

/// A field type of the interface language.
pub enum FieldType {
    /// An integer or `bool`, by its type name.
    Scalar(Ident),
    /// `[T; N]` of a scalar.
    Array(Ident, Expr),
    /// `Bytes<N>`, with `N`'s tokens.
    Bytes(TokenStream),
    /// `Str<N>`, with `N`'s tokens.
    Str(TokenStream),
    /// `Cap`, a capability.
    Cap,
}

impl Message {
    /// The reply fields (none for a one-way message).
    pub fn results(&self) -> &[Field] {
        self.results.as_deref().unwrap_or_default()
    }
}

impl Interface {
    /// Whether any request field is a capability.
    pub fn requests_carry_caps(&self) -> bool {
        self.messages.iter().any(|message| message.fields.iter().any(Field::is_cap))
    }

    /// Whether any reply field is a capability.
    pub fn replies_carry_caps(&self) -> bool {
        self.messages.iter().any(|message| message.results().iter().any(Field::is_cap))
    }
}

impl Field {
    /// Whether the field is a capability.
    pub fn is_cap(&self) -> bool {
        matches!(self.kind, FieldType::Cap)
    }
}

impl Parse for Interface {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        let docs = doc_attributes(input)?;
        let visibility = input.parse()?;
        input.parse::<keyword::interface>()?;
        let name: Ident = input.parse()?;
        let body;
        braced!(body in input);
        let mut messages = Vec::new();
        while !body.is_empty() {
            messages.push(body.parse()?);
        }
        if !input.is_empty() {
            return Err(input.error("expected nothing after the interface"));
        }
        let interface = Self { docs, visibility, name, messages };
        interface.check()?;
        Ok(interface)
    }
}

impl Parse for Message {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        let docs = doc_attributes(input)?;
        let rpc = if input.peek(keyword::rpc) {
            input.parse::<keyword::rpc>()?;
            true
        } else {
            input.parse::<keyword::message>().map_err(|error| {
                Error::new(error.span(), "expected `message name(...);` or `rpc name(...) -> (...);`")
            })?;
            false
        };
        let name = input.parse()?;
        let fields = field_list(input)?;
        let results = if rpc {
            input.parse::<Token![->]>()?;
            Some(field_list(input)?)
        } else {
            None
        };
        input.parse::<Token![;]>()?;
        Ok(Self { docs, name, fields, results })
    }
}

impl Parse for Field {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        let name = input.parse()?;
        input.parse::<Token![:]>()?;
        let kind = field_type(&input.parse()?)?;
        Ok(Self { name, kind })
    }
}

/// Doc comments; any other attribute is an error.
fn doc_attributes(input: ParseStream<'_>) -> Result<Vec<Attribute>> {
    let attributes = input.call(Attribute::parse_outer)?;
    for attribute in &attributes {
        if !attribute.path().is_ident("doc") {
            return Err(Error::new_spanned(attribute, "only doc comments are allowed here"));
        }
    }
    Ok(attributes)
}

/// `(name: Type, ...)`.
fn field_list(input: ParseStream<'_>) -> Result<Vec<Field>> {
    let content;
    parenthesized!(content in input);
    Ok(Punctuated::<Field, Token![,]>::parse_terminated(&content)?.into_iter().collect())
}

/// Classifies a Rust type as a field type of the interface language.
fn field_type(ty: &Type) -> Result<FieldType> {
    let unsupported = || {
        Error::new_spanned(
            ty,
            "unsupported field type: expected u8..u64, i8..i64, bool, [T; N] of those, Bytes<N>, Str<N> or Cap",
        )
    };
    match ty {
        Type::Array(array) => match scalar(&array.elem) {
            Some(element) => Ok(FieldType::Array(element, array.len.clone())),
            None => Err(Error::new_spanned(&array.elem, "array elements must be integers or bool")),
        },
        Type::Path(path) if path.qself.is_none() && path.path.segments.len() == 1 => {
            let segment = &path.path.segments[0];
            let name = segment.ident.to_string();
            match (&segment.arguments, name.as_str()) {
                (PathArguments::None, "Cap") => Ok(FieldType::Cap),
                (PathArguments::None, _) => scalar(ty).map(FieldType::Scalar).ok_or_else(unsupported),
                (PathArguments::AngleBracketed(arguments), "Bytes" | "Str") if arguments.args.len() == 1 => {
                    let bound = match &arguments.args[0] {
                        GenericArgument::Const(expression) => expression.to_token_stream(),
                        GenericArgument::Type(Type::Path(path)) => path.to_token_stream(),
                        other => return Err(Error::new_spanned(other, "expected a length bound")),
                    };
                    Ok(if name == "Bytes" { FieldType::Bytes(bound) } else { FieldType::Str(bound) })
                }
                _ => Err(unsupported()),
            }
        }
        _ => Err(unsupported()),
    }
}

/// The scalar type `ty` names, if any.
fn scalar(ty: &Type) -> Option<Ident> {
    let Type::Path(path) = ty else { return None };
    let ident = path.path.get_ident()?;
    (path.qself.is_none() && SCALARS.contains(&ident.to_string().as_str())).then(|| ident.clone())
}

impl Interface {
    /// Rejects what would generate clashing or oversized code.
    fn check(&self) -> Result<()> {
        if self.messages.is_empty() {
            return Err(Error::new(self.name.span(), "an interface needs at least one message"));
        }
        if self.messages.len() > 256 {
            return Err(Error::new(self.name.span(), "an interface has at most 256 messages"));
        }
        let mut methods = HashSet::new();
        for message in &self.messages {
            let name = message.name.to_string();
            if name.starts_with("__") || name.starts_with("r#") {
                return Err(Error::new(
                    message.name.span(),
                    "message names must not start with `__` or be raw",
                ));
            }
            if RESERVED_CONSTS.contains(&name.to_uppercase().as_str()) {
                return Err(Error::new(message.name.span(), "this name is used by the generated tables"));
            }
            let mut generated = vec![name.clone()];
            if message.results.is_some() {
                generated.extend([format!("send_{name}"), format!("recv_{name}")]);
            }
            for method in generated {
                if RESERVED_METHODS.contains(&method.as_str()) || !methods.insert(method.clone()) {
                    let text = format!("`{name}` clashes with the generated method `{method}`");
                    return Err(Error::new(message.name.span(), text));
                }
            }
            check_fields(&message.fields)?;
            check_fields(message.results())?;
        }
        Ok(())
    }
}

/// Rejects duplicate and internal-looking field names.
fn check_fields(fields: &[Field]) -> Result<()> {
    let mut names = HashSet::new();
    for field in fields {
        let name = field.name.to_string();
        if name.starts_with("__") || name == "self" {
            return Err(Error::new(field.name.span(), "field names must not start with `__`"));
        }
        if !names.insert(name) {
            return Err(Error::new(field.name.span(), "duplicate field name"));
        }
    }
    Ok(())
}

/// `snake_case` to `UpperCamelCase`, at `span`.
pub fn camel(name: &Ident) -> Ident {
    let text: String = name
        .to_string()
        .split('_')
        .map(|part| {
            let mut characters = part.chars();
            characters
                .next()
                .map(|first| first.to_uppercase().chain(characters).collect())
                .unwrap_or_default()
        })
        .collect::<Vec<String>>()
        .concat();
    Ident::new(&text, name.span())
}

/// `snake_case` to `SCREAMING_SNAKE_CASE`.
pub fn screaming(name: &Ident) -> Ident {
    Ident::new(&name.to_string().to_uppercase(), name.span())
}

/// An identifier `prefix` + `name`, at `name`'s span.
pub fn prefixed(prefix: &str, name: &Ident) -> Ident {
    Ident::new(&format!("{prefix}{name}"), name.span())
}
