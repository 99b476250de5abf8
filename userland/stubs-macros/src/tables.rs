//! The interface struct: message numbers, shape tables and size limits.

use proc_macro2::TokenStream;
use quote::quote;

use crate::expand::documented;
use crate::fields::{cap_count, max_length};
use crate::model::{screaming, Field, Interface};

/// `Some(Shape { .. })` for `fields`.
fn shape(fields: &[Field]) -> TokenStream {
    let max_length = max_length(fields);
    let caps = cap_count(fields);
    quote!(::core::option::Option::Some(::stubs::Shape { max_length: #max_length, caps: #caps }))
}

/// The interface struct and its constants.
pub fn generate(interface: &Interface) -> TokenStream {
    let Interface { docs, visibility, name, messages } = interface;
    let count = messages.len();
    let numbers = messages.iter().enumerate().map(|(number, message)| {
        let constant = screaming(&message.name);
        let doc = format!("The message number of `{}`.", message.name);
        let number = number as u8;
        quote!(#[doc = #doc] pub const #constant: u8 = #number;)
    });
    let request_shapes = messages.iter().map(|message| shape(&message.fields));
    let reply_shapes = messages.iter().map(|message| match &message.results {
        Some(results) => shape(results),
        None => quote!(::core::option::Option::None),
    });
    let names = messages.iter().map(|message| message.name.to_string());
    let too_large = format!("a message of `{name}` is larger than 65535 bytes");
    let docs = documented(docs, "The interface itself: message numbers, shapes and size limits.");
    quote! {
        #docs
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        #visibility struct #name;

        impl #name {
            #(#numbers)*

            /// Each request's shape, by message number.
            pub const REQUEST_SHAPES: [::core::option::Option<::stubs::Shape>; #count] = [#(#request_shapes),*];
            /// Each reply's shape, by message number (`None` for one-way messages).
            pub const REPLY_SHAPES: [::core::option::Option<::stubs::Shape>; #count] = [#(#reply_shapes),*];
            /// The largest request payload, in bytes.
            pub const MAX_REQUEST_BYTES: usize = ::stubs::Shape::max_length_of(&Self::REQUEST_SHAPES);
            /// The largest reply payload, in bytes.
            pub const MAX_REPLY_BYTES: usize = ::stubs::Shape::max_length_of(&Self::REPLY_SHAPES);
            /// The largest request payload, in words.
            pub const REQUEST_WORDS: usize = Self::MAX_REQUEST_BYTES.div_ceil(8);
            /// The largest reply payload, in words.
            pub const REPLY_WORDS: usize = Self::MAX_REPLY_BYTES.div_ceil(8);
            /// The most capabilities in one request.
            pub const REQUEST_CAPS: usize = ::stubs::Shape::max_caps_of(&Self::REQUEST_SHAPES);
            /// The most capabilities in one reply.
            pub const REPLY_CAPS: usize = ::stubs::Shape::max_caps_of(&Self::REPLY_SHAPES);
            /// Each message's name, by message number.
            pub const NAMES: [&'static str; #count] = [#(#names),*];

            /// The name of message `number`, if it exists.
            pub fn name(number: u8) -> ::core::option::Option<&'static str> {
                Self::NAMES.get(usize::from(number)).copied()
            }
        }

        const _: () = assert!(
            #name::MAX_REQUEST_BYTES <= ::stubs::MAX_MESSAGE_BYTES
                && #name::MAX_REPLY_BYTES <= ::stubs::MAX_MESSAGE_BYTES,
            #too_large
        );
    }
}
