//! The whole expansion of one interface.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Attribute;

use crate::messages::Direction;
use crate::model::Interface;
use crate::{client, messages, server, tables};

/// The declared doc comments, then `summary` as a paragraph of its own.
pub fn documented(docs: &[Attribute], summary: &str) -> TokenStream {
    let separator = if docs.is_empty() { quote!() } else { quote!(#[doc = ""]) };
    quote!(#(#docs)* #separator #[doc = #summary])
}

/// Every generated item of `interface`.
pub fn expand(interface: &Interface) -> TokenStream {
    let tables = tables::generate(interface);
    let requests = messages::generate(interface, Direction::Request);
    let replies = messages::generate(interface, Direction::Reply);
    let client = client::generate(interface);
    let server = server::generate(interface);
    quote!(#tables #requests #replies #client #server)
}
