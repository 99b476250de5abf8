//! The client stub: one method per message, three per RPC.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::expand::documented;
use crate::fields::{
    argument, bound_checks, decoders, fixed_length, owned, results_tuple, results_type, send,
};
use crate::messages::Direction;
use crate::model::{prefixed, screaming, Interface, Message};

/// The client methods of one message.
fn methods(interface: &Interface, message: &Message) -> TokenStream {
    let interface_name = &interface.name;
    let docs = &message.docs;
    let name = &message.name;
    let number = screaming(name);
    let cap = quote!(T::Cap);
    let parameters: Vec<_> = message
        .fields
        .iter()
        .map(|field| {
            let field_name = &field.name;
            let ty = argument(&field.kind, &cap);
            quote!(#field_name: #ty)
        })
        .collect();
    let checks = bound_checks(&message.fields);
    let Some(results) = &message.results else {
        let sending = send(
            &message.fields,
            |caps, encode| quote!(self.endpoint.send(::stubs::Kind::Request, #interface_name::#number, __id, __length, #caps, #encode)),
        );
        let docs = documented(docs, &format!("Sends the one-way message `{name}`."));
        return quote! {
            #docs
            #[inline]
            #[allow(clippy::too_many_arguments)]
            pub fn #name(&mut self, #(#parameters),*) -> ::core::result::Result<(), ::stubs::RpcError> {
                #checks
                let __id = self.endpoint.next_id();
                #sending
            }
        };
    };
    let send_name = prefixed("send_", name);
    let recv_name = prefixed("recv_", name);
    let output = results_type(results, &cap);
    let result_names = results.iter().map(|field| &field.name);
    let result_types = results.iter().map(|field| owned(&field.kind, &cap));
    let decoders = decoders(results, &quote!(.map_err(::stubs::RpcError::BadReply)));
    let tuple = results_tuple(results);
    let decode = quote! {
        let mut __reader = __delivery.reader();
        #(let #result_names: #result_types = #decoders;)*
        __reader.finish().map_err(::stubs::RpcError::BadReply)?;
        ::core::result::Result::Ok(#tuple)
    };
    // A reply of a fixed length without capabilities is checked by comparing
    // its header word with the one expected.
    let calling = match fixed_length(results) {
        Some(reply_length) => {
            let calling = send(
                &message.fields,
                |caps, encode| quote!(self.endpoint.call_fixed(#interface_name::#number, __length, #caps, #encode, __REPLY, &#interface_name::REPLY_SHAPES, __decode)),
            );
            quote! {{
                const __REPLY: ::stubs::Header =
                    ::stubs::Header::single(::stubs::Kind::Reply, #interface_name::#number, 0, (#reply_length) as u16, false);
                let __decode = |mut __delivery: ::stubs::Delivery<'_, T::Cap>| -> ::core::result::Result<#output, ::stubs::RpcError> {
                    #decode
                };
                #calling
            }}
        }
        None => {
            let calling = send(
                &message.fields,
                |caps, encode| quote!(self.endpoint.call(#interface_name::#number, __length, #caps, #encode, &#interface_name::REPLY_SHAPES)),
            );
            quote! {{
                let __called: ::core::result::Result<::stubs::Delivery<'_, T::Cap>, ::stubs::RpcError> = #calling;
                let mut __delivery = __called?;
                #decode
            }}
        }
    };
    let requesting = send(
        &message.fields,
        |caps, encode| quote!(self.endpoint.send_request(#interface_name::#number, __length, #caps, #encode)),
    );
    let docs = documented(
        docs,
        &format!(
            "Calls `{name}`: sends the request and waits for the reply. If the request is one \
             fragment and no other request is outstanding, that is one `Transport::call`."
        ),
    );
    let send_doc = format!("Sends the `{name}` request; collect its reply with [`Self::{recv_name}`].");
    let recv_doc = format!("Waits for the reply to a `{name}` request sent by [`Self::{send_name}`].");
    quote! {
        #docs
        #[inline]
        #[allow(clippy::too_many_arguments, unused_mut, unused_variables)]
        pub fn #name(&mut self, #(#parameters),*) -> ::core::result::Result<#output, ::stubs::RpcError> {
            #checks
            #calling
        }

        #[doc = #send_doc]
        #[inline]
        #[allow(clippy::too_many_arguments)]
        pub fn #send_name(&mut self, #(#parameters),*) -> ::core::result::Result<::stubs::Pending, ::stubs::RpcError> {
            #checks
            #requesting
        }

        #[doc = #recv_doc]
        #[inline]
        #[allow(unused_mut, unused_variables)]
        pub fn #recv_name(&mut self, pending: ::stubs::Pending) -> ::core::result::Result<#output, ::stubs::RpcError> {
            let mut __delivery = self.endpoint.receive_reply(&#interface_name::REPLY_SHAPES, pending)?;
            #decode
        }
    }
}

/// The client struct and its methods.
pub fn generate(interface: &Interface) -> TokenStream {
    let visibility = &interface.visibility;
    let interface_name = &interface.name;
    let name = format_ident!("{}Client", interface_name);
    let reply = Direction::Reply.name(interface);
    let reply_generics = if Direction::Reply.generic(interface) { quote!(<T::Cap>) } else { quote!() };
    let methods = interface.messages.iter().map(|message| methods(interface, message));
    let doc = format!("The client of `{interface_name}`: sends requests and collects replies.");
    quote! {
        #[doc = #doc]
        #visibility struct #name<T: ::stubs::Transport> {
            /// The channel end.
            endpoint: ::stubs::Endpoint<
                T,
                { #interface_name::REQUEST_WORDS },
                { #interface_name::REPLY_WORDS },
                { #interface_name::REPLY_CAPS },
            >,
        }

        impl<T: ::stubs::Transport> #name<T> {
            /// A client over `transport`.
            pub fn new(transport: T) -> Self {
                Self { endpoint: ::stubs::Endpoint::new(transport) }
            }

            /// The transport.
            pub fn transport(&mut self) -> &mut T {
                self.endpoint.transport()
            }

            /// The transport, giving up the client.
            pub fn into_transport(self) -> T {
                self.endpoint.into_transport()
            }

            /// Waits for the next reply, whichever request it answers: its
            /// request id and the reply, or the error the server sent for it
            /// or that its checks found. Fails only if the channel does.
            #[allow(clippy::type_complexity)]
            pub fn recv_reply(
                &mut self,
            ) -> ::core::result::Result<
                (::stubs::RequestId, ::core::result::Result<#reply #reply_generics, ::stubs::RpcError>),
                ::stubs::RpcError,
            > {
                let __header = match self.endpoint.next_reply(&#interface_name::REPLY_SHAPES)? {
                    ::stubs::Event::Ready(__header) => __header,
                    ::stubs::Event::Rejected { id, code, .. } => {
                        return ::core::result::Result::Ok((id, ::core::result::Result::Err(::stubs::RpcError::BadReply(code))));
                    }
                };
                let mut __delivery = self.endpoint.delivery();
                if let ::core::option::Option::Some(__error) = __delivery.remote_error() {
                    return ::core::result::Result::Ok((__header.id(), ::core::result::Result::Err(__error)));
                }
                let __reply = #reply::decode(&mut __delivery).map_err(::stubs::RpcError::BadReply);
                ::core::result::Result::Ok((__header.id(), __reply))
            }

            #(#methods)*
        }
    }
}
