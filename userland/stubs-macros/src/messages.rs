//! The typed request and reply enums.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::expand::documented;
use crate::fields::{decoders, owned};
use crate::model::{camel, screaming, Field, Interface, Message};

/// Which enum: the requests, or the replies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Every message's request fields.
    Request,
    /// Every RPC's result fields.
    Reply,
}

impl Direction {
    /// The enum's name for `interface`.
    pub fn name(self, interface: &Interface) -> syn::Ident {
        match self {
            Self::Request => format_ident!("{}Request", interface.name),
            Self::Reply => format_ident!("{}Reply", interface.name),
        }
    }

    /// Whether the enum has a capability type parameter `C`.
    pub fn generic(self, interface: &Interface) -> bool {
        match self {
            Self::Request => interface.requests_carry_caps(),
            Self::Reply => interface.replies_carry_caps(),
        }
    }

    /// The messages with a variant, and their fields.
    fn variants(self, interface: &Interface) -> Vec<(&Message, &[Field])> {
        interface
            .messages
            .iter()
            .filter_map(|message| match self {
                Self::Request => Some((message, message.fields.as_slice())),
                Self::Reply => Some((message, message.results.as_deref()?)),
            })
            .collect()
    }
}

/// One variant's declaration.
fn variant(message: &Message, fields: &[Field], direction: Direction) -> TokenStream {
    let docs = &message.docs;
    let name = camel(&message.name);
    let what = if direction == Direction::Request { "request" } else { "reply" };
    let summary = format!("The `{}` {what}.", message.name);
    let cap = quote!(C);
    let members = fields.iter().map(|field| {
        let doc = format!("`{}`.", field.name);
        let field_name = &field.name;
        let ty = owned(&field.kind, &cap);
        quote!(#[doc = #doc] #field_name: #ty)
    });
    let body = if fields.is_empty() { quote!() } else { quote!({ #(#members),* }) };
    let docs = documented(docs, &summary);
    quote!(#docs #name #body)
}

/// The enum of `direction` for `interface`, with `number` and `decode`.
pub fn generate(interface: &Interface, direction: Direction) -> TokenStream {
    let visibility = &interface.visibility;
    let interface_name = &interface.name;
    let name = direction.name(interface);
    let (generics, delivery_cap) = match direction.generic(interface) {
        true => (quote!(<C>), quote!(C)),
        false => (quote!(), quote!(impl ::core::marker::Sized)),
    };
    let variants = direction.variants(interface);
    let declarations = variants.iter().map(|(message, fields)| variant(message, fields, direction));
    let numbers = variants.iter().map(|(message, _)| {
        let variant = camel(&message.name);
        let number = screaming(&message.name);
        quote!(Self::#variant { .. } => #interface_name::#number,)
    });
    let decodes = variants.iter().map(|(message, fields)| {
        let variant = camel(&message.name);
        let number = screaming(&message.name);
        let names = fields.iter().map(|field| &field.name);
        let decoders = decoders(fields, &quote!());
        quote!(#interface_name::#number => Self::#variant { #(#names: #decoders),* },)
    });
    let doc = match direction {
        Direction::Request => format!("A request of `{interface_name}`: one variant per message."),
        Direction::Reply => format!("A reply of `{interface_name}`: one variant per RPC."),
    };
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq, Eq)]
        #visibility enum #name #generics {
            #(#declarations,)*
        }

        impl #generics #name #generics {
            /// The message number.
            #[allow(unreachable_code, unused_variables)]
            pub fn number(&self) -> u8 {
                match *self {
                    #(#numbers)*
                }
            }

            /// Reads and checks a delivered message: its number must have a
            /// variant and its fields must use exactly the payload.
            #[allow(unused_mut, unused_variables, unreachable_code)]
            pub fn decode(
                __delivery: &mut ::stubs::Delivery<'_, #delivery_cap>,
            ) -> ::core::result::Result<Self, ::stubs::ErrorCode> {
                let mut __reader = __delivery.reader();
                let __message = match __delivery.header().number() {
                    #(#decodes)*
                    _ => return ::core::result::Result::Err(::stubs::ErrorCode::UnknownMessage),
                };
                __reader.finish()?;
                ::core::result::Result::Ok(__message)
            }
        }
    }
}
