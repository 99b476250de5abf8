//! The stub compiler: `interface!` parsed and expanded into stubs.
//!
//! Use it through the `stubs` crate (`stubs::interface!`), whose docs give
//! the syntax, the generated API and the wire format; the generated code
//! names `::stubs`.
#![forbid(unsafe_code)]

mod client;
mod expand;
mod fields;
mod messages;
mod model;
mod server;
mod tables;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Declares an interface and generates its messages, client and server.
///
/// See the `stubs` crate for the syntax and what is generated.
#[proc_macro]
pub fn interface(input: TokenStream) -> TokenStream {
    match syn::parse::<model::Interface>(input) {
        Ok(interface) => expand::expand(&interface).into(),
        Err(error) => error.to_compile_error().into(),
    }
}
