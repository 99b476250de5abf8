//! The server side: the handler trait and the dispatcher.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::expand::documented;
use crate::fields::{
    decoders, fixed_decoding, fixed_length, owned, payload_layout, results_tuple, results_type, send,
};
use crate::model::{screaming, Interface, Message};

/// The name of the handler trait.
fn trait_name(interface: &Interface) -> syn::Ident {
    format_ident!("{}Server", interface.name)
}

/// Whether any message carries a capability either way.
fn carries_caps(interface: &Interface) -> bool {
    interface.requests_carry_caps() || interface.replies_carry_caps()
}

/// The handler method of one message.
fn handler(message: &Message) -> TokenStream {
    let docs = &message.docs;
    let name = &message.name;
    let cap = quote!(C);
    let parameters = message.fields.iter().map(|field| {
        let field_name = &field.name;
        let ty = owned(&field.kind, &cap);
        quote!(#field_name: #ty)
    });
    let output = match &message.results {
        Some(results) if !results.is_empty() => {
            let ty = results_type(results, &cap);
            quote!(-> #ty)
        }
        _ => quote!(),
    };
    let docs = documented(docs, &format!("Handles `{name}`."));
    quote! {
        #docs
        #[allow(clippy::too_many_arguments)]
        fn #name(&mut self, #(#parameters),*) #output;
    }
}

/// Statements that read one message's fields from the delivery `delivery`
/// gives into local variables of their names, or else evaluate `reject`
/// (which must diverge) with the error code `__code`.
fn decoding(message: &Message, delivery: &TokenStream, reject: &TokenStream) -> TokenStream {
    let cap = quote!(T::Cap);
    let fields: Vec<_> = message.fields.iter().map(|field| &field.name).collect();
    let types = message.fields.iter().map(|field| owned(&field.kind, &cap));
    let decoders = decoders(&message.fields, &quote!());
    quote! {
        #[allow(unused_mut, unused_variables, clippy::let_unit_value)]
        let __fields = {
            let mut __delivery = #delivery;
            let mut __reader = __delivery.reader();
            (|| -> ::core::result::Result<_, ::stubs::ErrorCode> {
                #(let #fields: #types = #decoders;)*
                __reader.finish()?;
                ::core::result::Result::Ok((#(#fields,)*))
            })()
        };
        let (#(#fields,)*) = match __fields {
            ::core::result::Result::Ok(__fields) => __fields,
            ::core::result::Result::Err(__code) => #reject,
        };
    }
}

/// The call of a message's handler, with the fields decoded.
fn handling(message: &Message) -> TokenStream {
    let name = &message.name;
    let fields = message.fields.iter().map(|field| &field.name);
    quote!(__server.#name(#(#fields),*))
}

/// The block that calls a message's handler (its fields decoded) and sends
/// its reply, if any, with `Endpoint::reply`: `Result<(), RpcError>`.
fn replying(message: &Message) -> TokenStream {
    let call = handling(message);
    match &message.results {
        None => quote!({ #call; ::core::result::Result::Ok(()) }),
        Some(results) => {
            let tuple = results_tuple(results);
            let sending = send(
                results,
                |caps, encode| quote!(self.endpoint.reply(DEFER, __number, __id, __length, #caps, #encode)),
            );
            quote!({
                #[allow(clippy::let_unit_value, clippy::unit_arg)]
                let #tuple = #call;
                #sending
            })
        }
    }
}

/// The match arm of `dispatch` for one message: reads its fields from the
/// delivery of the message received, calls its handler and sends its reply.
fn arm(interface: &Interface, message: &Message) -> TokenStream {
    let interface_name = &interface.name;
    let number = screaming(&message.name);
    let reject = quote!(return self.endpoint.reject(DEFER, __number, __id, __code));
    let decode = decoding(message, &quote!(self.endpoint.delivery()), &reject);
    let reply = replying(message);
    quote!(#interface_name::#number => { #decode #reply })
}

/// What serves a request of a fixed length without capabilities straight
/// from the fragment received, once its header was checked in one
/// comparison.
struct Fast {
    /// The constants of its header (its length, its header word but for
    /// the request id) and of its fields' positions.
    constants: TokenStream,
    /// The match arm of `serve_received`.
    serve: TokenStream,
    /// The match arm of `poll_one`.
    poll: TokenStream,
}

/// For a request of a fixed length without capabilities: the constants of
/// its header and the match arms of `serve_received` and `poll_one` that
/// serve it straight from the fragment received if the fragment has that
/// header and no capability. Its fields are read at their constant
/// positions, still checked (`bool`s).
///
/// The serving loop's arm evaluates to the `Served` outcome, or, for a reply
/// of a fixed length without capabilities that fits one fragment, shows the
/// outcome to `keep_going` itself and returns after sending the reply (with
/// receiving the next request). The arm of `poll_one` returns the outcome,
/// having sent the reply at once, as `dispatch::<false>` does.
fn fast_arm(interface: &Interface, message: &Message) -> Option<Fast> {
    let interface_name = &interface.name;
    let number = screaming(&message.name);
    let length = fixed_length(&message.fields)?;
    let layout = payload_layout(&message.fields)?;
    let field_count = message.fields.len();
    let length_name = format_ident!("__LENGTH_{}", number);
    let key_name = format_ident!("__KEY_{}", number);
    let at_name = format_ident!("__AT_{}", number);
    let mut constants = quote! {
        const #length_name: usize = #length;
        const #key_name: u64 = ::stubs::Header::single(
            ::stubs::Kind::Request, #interface_name::#number, 0, #length_name as u16, false,
        ).word();
        const #at_name: [usize; #field_count] = ::stubs::wire::fixed_positions(#layout);
    };
    let fits = quote!(::stubs::__private::fits_one(#length_name, <T::Words as ::stubs::Words>::LEN));
    let decode = fixed_decoding(
        &message.fields,
        &quote!(self.endpoint.received_payload()),
        &at_name,
        &quote!(break '__arm self.endpoint.reject(true, __number, __id, __code)?),
    );
    let generic = replying(message);
    let generic = quote! {
        let __sent: ::core::result::Result<(), ::stubs::RpcError> = #generic;
        self.endpoint.replied(DEFER, __number, __id, __sent)?
    };
    let reply = match message.results.as_deref().map(|results| (results, fixed_length(results))) {
        Some((results, Some(reply_length))) => {
            let reply_name = format_ident!("__REPLY_LENGTH_{}", number);
            constants.extend(quote!(const #reply_name: usize = #reply_length;));
            let call = handling(message);
            let tuple = results_tuple(results);
            let sending = send(results, |_caps, encode| {
                quote! {
                    self.endpoint.reply_single_and_receive(
                        ::stubs::Header::single(::stubs::Kind::Reply, __number, __id, #reply_name as u16, false),
                        #encode,
                        __keep,
                    )
                }
            });
            quote! {
                if ::stubs::__private::fits_one(#reply_name, <T::Words as ::stubs::Words>::LEN) {
                    #[allow(clippy::let_unit_value, clippy::unit_arg)]
                    let #tuple = #call;
                    let __keep = __keep_going(::stubs::Served::Handled { number: __number, id: __id });
                    return #sending;
                }
                #generic
            }
        }
        _ => generic.clone(),
    };
    let serve = quote! {
        #key_name if #fits => '__arm: {
            const DEFER: bool = true;
            let __number = #interface_name::#number;
            #decode
            #reply
        }
    };
    let decode = fixed_decoding(
        &message.fields,
        &quote!(self.endpoint.polled_payload(&__words)),
        &at_name,
        &quote!(break '__arm self.endpoint.reject(false, __number, __id, __code)?),
    );
    let poll = quote! {
        #interface_name::#number if __key == #key_name && #fits => {
            let __served = '__arm: {
                const DEFER: bool = false;
                let __number = #interface_name::#number;
                #decode
                #generic
            };
            return ::core::result::Result::Ok(::core::option::Option::Some(__served));
        }
    };
    Some(Fast { constants, serve, poll })
}

/// The handler trait and the dispatcher.
pub fn generate(interface: &Interface) -> TokenStream {
    let visibility = &interface.visibility;
    let interface_name = &interface.name;
    let server = trait_name(interface);
    let dispatcher = format_ident!("{}Dispatcher", interface_name);
    let (generics, bound) = match carries_caps(interface) {
        true => (quote!(<C>), quote!(#server<T::Cap>)),
        false => (quote!(), quote!(#server)),
    };
    let handlers = interface.messages.iter().map(handler);
    let arms = interface.messages.iter().map(|message| arm(interface, message));
    let fast: Vec<Fast> =
        interface.messages.iter().filter_map(|message| fast_arm(interface, message)).collect();
    let fast_constants: Vec<_> = fast.iter().map(|fast| &fast.constants).collect();
    let fast_arms = fast.iter().map(|fast| &fast.serve);
    let poll_arms = fast.iter().map(|fast| &fast.poll);
    // A fragment that starts a message is received into words of their own:
    // a request served straight from them is never stored in the endpoint.
    // Anything else is served by `poll_rest`, out of line, so that the fast
    // path's registers are few.
    let poll_one = match fast.is_empty() {
        true => quote!(self.poll_rest(__server, false)),
        false => quote! {
            #(#fast_constants)*
            if !self.endpoint.idle() {
                return self.poll_rest(__server, false);
            }
            let mut __words = <T::Words as ::stubs::Words>::zeroed();
            let mut __cap = ::core::option::Option::None;
            if !self.endpoint.try_receive(&mut __words, &mut __cap)? {
                return ::core::result::Result::Ok(::core::option::Option::None);
            }
            let (__key, __id) = ::stubs::header::fragment_key(&__words, __cap.is_some());
            // One comparison after a jump on the message number.
            match ::stubs::header::raw_number(__key) {
                #(#poll_arms)*
                _ => {}
            }
            self.endpoint.stage(__words, __cap);
            self.poll_rest(__server, true)
        },
    };
    let trait_doc =
        format!("The server of `{interface_name}`: one method per message, called with checked fields only.");
    let dispatcher_doc =
        format!("The server end of `{interface_name}`: receives, checks and dispatches requests.");
    quote! {
        #[doc = #trait_doc]
        #visibility trait #server #generics {
            #(#handlers)*
        }

        #[doc = #dispatcher_doc]
        #visibility struct #dispatcher<T: ::stubs::Transport> {
            /// The channel end.
            endpoint: ::stubs::Endpoint<
                T,
                { #interface_name::REPLY_WORDS },
                { #interface_name::REQUEST_WORDS },
                { #interface_name::REQUEST_CAPS },
            >,
        }

        impl<T: ::stubs::Transport> #dispatcher<T> {
            /// A dispatcher over `transport`.
            pub fn new(transport: T) -> Self {
                Self { endpoint: ::stubs::Endpoint::new(transport) }
            }

            /// The transport.
            pub fn transport(&mut self) -> &mut T {
                self.endpoint.transport()
            }

            /// The transport, giving up the dispatcher.
            pub fn into_transport(self) -> T {
                self.endpoint.into_transport()
            }

            /// Serves one message if one is complete, without waiting: calls
            /// its handler and sends the reply, or sends an error reply if
            /// it fails a check. `None` if no message is complete yet.
            ///
            /// A request of a fixed length without capabilities that fits
            /// one fragment is checked by comparing its header word with the
            /// one expected and read straight from the fragment; any other
            /// fragment is checked in full, with the same outcome.
            #[inline]
            #[allow(unused_variables, unreachable_code)]
            pub fn poll_one(
                &mut self,
                __server: &mut (impl #bound + ?::core::marker::Sized),
            ) -> ::core::result::Result<::core::option::Option<::stubs::Served>, ::stubs::TransportError> {
                #poll_one
            }

            /// `poll_one` but for its fast path: serves the fragment staged
            /// in the endpoint (if `staged`), or else polls, as
            /// `Endpoint::poll` does.
            #[inline(never)]
            fn poll_rest(
                &mut self,
                __server: &mut (impl #bound + ?::core::marker::Sized),
                __staged: bool,
            ) -> ::core::result::Result<::core::option::Option<::stubs::Served>, ::stubs::TransportError> {
                let __shapes = &#interface_name::REQUEST_SHAPES;
                let __polled = match __staged {
                    true => self.endpoint.poll_staged(__shapes, ::stubs::Side::Server)?,
                    false => self.endpoint.poll(__shapes, ::stubs::Side::Server)?,
                };
                match __polled {
                    ::core::option::Option::None => ::core::result::Result::Ok(::core::option::Option::None),
                    ::core::option::Option::Some(__event) => {
                        self.dispatch::<false>(__server, __event).map(::core::option::Option::Some)
                    }
                }
            }

            /// Serves messages until `keep_going` says stop or the transport
            /// fails: waits for a request, calls its handler (or, if it
            /// fails a check, prepares an error reply), shows the outcome to
            /// `keep_going`, and replies; `true` goes on with the next
            /// request.
            ///
            /// A reply (or error reply) of one fragment is sent together
            /// with receiving the next request's first fragment, in one
            /// `Transport::reply_and_receive`: one transport operation per
            /// request in the steady state. A longer reply is sent as soon
            /// as it is ready, and the next request received on its own. If
            /// `keep_going` returns `false`, the last reply is sent alone
            /// and `serve` returns `Ok(())`. Checks and outcomes are those
            /// of `serve_one`; a rejected request is not an error of
            /// `serve`, which ends otherwise only on a transport error (the
            /// last reply may then be lost).
            #[inline]
            pub fn serve(
                &mut self,
                __server: &mut (impl #bound + ?::core::marker::Sized),
                mut __keep_going: impl ::core::ops::FnMut(::stubs::Served) -> bool,
            ) -> ::core::result::Result<(), ::stubs::TransportError> {
                let __event = self.endpoint.wait_event(&#interface_name::REQUEST_SHAPES, ::stubs::Side::Server)?;
                let __served = self.dispatch::<true>(__server, __event)?;
                let mut __received = self.endpoint.next_fragment(__keep_going(__served))?;
                while __received {
                    __received = self.serve_received(__server, &mut __keep_going)?;
                }
                ::core::result::Result::Ok(())
            }

            /// The serving loop's step for the fragment just received (no
            /// message being reassembled, none stashed): serves it straight
            /// from the fragment if it is a whole request of a fixed length
            /// without capabilities, whose header is then checked in one
            /// comparison; else checks it in full and completes its message
            /// with the fragments that follow, as `serve_one` does. Then
            /// shows the outcome to `keep_going`, sends the reply and, if
            /// `keep_going`, receives the next fragment (`true`).
            #[inline(always)]
            #[allow(unused_variables, unreachable_code)]
            fn serve_received(
                &mut self,
                __server: &mut (impl #bound + ?::core::marker::Sized),
                __keep_going: &mut impl ::core::ops::FnMut(::stubs::Served) -> bool,
            ) -> ::core::result::Result<bool, ::stubs::TransportError> {
                #(#fast_constants)*
                let (__key, __id) = self.endpoint.received_key();
                let __served = match __key {
                    #(#fast_arms)*
                    _ => {
                        let __event = self.endpoint.process_received(&#interface_name::REQUEST_SHAPES, ::stubs::Side::Server)?;
                        self.dispatch::<true>(__server, __event)?
                    }
                };
                self.endpoint.next_fragment(__keep_going(__served))
            }

            /// Serves one received message or rejection: calls the handler
            /// and sends the reply, or sends an error reply. With `DEFER`, a
            /// one-fragment reply or error reply is held back for
            /// `next_request` to send.
            #[inline(always)]
            fn dispatch<const DEFER: bool>(
                &mut self,
                __server: &mut (impl #bound + ?::core::marker::Sized),
                __event: ::stubs::Event,
            ) -> ::core::result::Result<::stubs::Served, ::stubs::TransportError> {
                let __header = match __event {
                    ::stubs::Event::Rejected { number, id, code } => {
                        return self.endpoint.reject(DEFER, number, id, code);
                    }
                    ::stubs::Event::Ready(__header) => __header,
                };
                let (__number, __id) = (__header.number(), __header.id());
                let __sent: ::core::result::Result<(), ::stubs::RpcError> = match __number {
                    #(#arms)*
                    _ => {
                        let __code = ::stubs::ErrorCode::UnknownMessage;
                        return self.endpoint.reject(DEFER, __number, __id, __code);
                    }
                };
                self.endpoint.replied(DEFER, __number, __id, __sent)
            }

            /// Serves one message, waiting through the transport until one
            /// is complete.
            pub fn serve_one(
                &mut self,
                __server: &mut (impl #bound + ?::core::marker::Sized),
            ) -> ::core::result::Result<::stubs::Served, ::stubs::TransportError> {
                loop {
                    if let ::core::option::Option::Some(__served) = self.poll_one(__server)? {
                        return ::core::result::Result::Ok(__served);
                    }
                    ::stubs::Transport::wait(self.endpoint.transport())?;
                }
            }
        }
    }
}
