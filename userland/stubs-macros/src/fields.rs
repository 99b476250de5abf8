//! Code for fields: their Rust types, size bounds, encoding and decoding.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

use crate::model::{Field, FieldType};

/// The Rust type of a received field (and of a handler's result), with `cap`
/// as the capability type.
pub fn owned(kind: &FieldType, cap: &TokenStream) -> TokenStream {
    match kind {
        FieldType::Scalar(name) => quote!(#name),
        FieldType::Array(element, length) => quote!([#element; #length]),
        FieldType::Bytes(bound) => quote!(::stubs::Bytes<#bound>),
        FieldType::Str(bound) => quote!(::stubs::Str<#bound>),
        FieldType::Cap => cap.clone(),
    }
}

/// The Rust type of a client argument: strings are borrowed.
pub fn argument(kind: &FieldType, cap: &TokenStream) -> TokenStream {
    match kind {
        FieldType::Bytes(_) => quote!(&[u8]),
        FieldType::Str(_) => quote!(&str),
        other => owned(other, cap),
    }
}

/// The type of several results: `()`, the one type, or a tuple.
pub fn results_type(fields: &[Field], cap: &TokenStream) -> TokenStream {
    let types: Vec<TokenStream> = fields.iter().map(|field| owned(&field.kind, cap)).collect();
    match types.as_slice() {
        [single] => single.clone(),
        types => quote!((#(#types),*)),
    }
}

/// The pattern or expression naming several results: `()`, the one name,
/// or a tuple of names.
pub fn results_tuple(fields: &[Field]) -> TokenStream {
    let names: Vec<_> = fields.iter().map(|field| &field.name).collect();
    match names.as_slice() {
        [single] => quote!(#single),
        names => quote!((#(#names),*)),
    }
}

/// A constant expression: the largest payload of `fields`, in bytes.
pub fn max_length(fields: &[Field]) -> TokenStream {
    let steps = fields.iter().filter(|field| !field.is_cap()).map(|field| {
        let ty = owned(&field.kind, &TokenStream::new());
        quote! {
            let __end = ::stubs::wire::max_end(
                __end,
                <#ty as ::stubs::wire::Bounded>::ALIGN,
                <#ty as ::stubs::wire::Bounded>::MAX_SIZE,
            );
        }
    });
    quote!({ let __end: usize = 0; #(#steps)* __end })
}

/// The number of capabilities among `fields`.
pub fn cap_count(fields: &[Field]) -> usize {
    fields.iter().filter(|field| field.is_cap()).count()
}

/// Statements that check borrowed string arguments against their bounds.
pub fn bound_checks(fields: &[Field]) -> TokenStream {
    let checks = fields.iter().filter_map(|field| {
        let name = &field.name;
        match &field.kind {
            FieldType::Bytes(bound) | FieldType::Str(bound) => {
                Some(quote!(::stubs::wire::check_bound(#name.len(), #bound)?;))
            }
            _ => None,
        }
    });
    quote!(#(#checks)*)
}

/// A block that computes the payload length `__length` of `fields` (bound
/// to local variables of their names) and then evaluates `call(caps,
/// encode)`: an endpoint method call given the array of capability fields
/// and the closure that writes the payload.
///
/// If every field but the capabilities has a fixed size, the length is a
/// constant and each field is written at its constant position
/// (`Writer::put`): plain stores, no position to compute.
pub fn send(fields: &[Field], call: impl FnOnce(TokenStream, TokenStream) -> TokenStream) -> TokenStream {
    let payload: Vec<_> = fields.iter().filter(|field| !field.is_cap()).map(|field| &field.name).collect();
    let caps = fields.iter().filter(|field| field.is_cap()).map(|field| &field.name);
    let caps = quote!([#(#caps),*]);
    if let Some(layout) = payload_layout(fields) {
        let count = payload.len();
        let indices = 0..count;
        let call = call(
            caps,
            quote! {
                |__writer: &mut ::stubs::wire::Writer<'_>| {
                    #(__writer.put(&#payload, __AT[#indices]);)*
                }
            },
        );
        return quote! {{
            const __AT: [usize; #count] = ::stubs::wire::fixed_positions(#layout);
            const __LENGTH: usize = ::stubs::wire::fixed_length(#layout);
            let __length: usize = __LENGTH;
            #call
        }};
    }
    let call = call(
        caps,
        quote! {
            |__writer: &mut ::stubs::wire::Writer<'_>| {
                #(::stubs::wire::Encode::encode(&#payload, __writer);)*
            }
        },
    );
    quote! {{
        let __length: usize = 0;
        #(let __length = ::stubs::wire::Encode::end(&#payload, __length);)*
        #call
    }}
}

/// For each field, an expression that reads it from `__reader` (or takes
/// its capability from `__delivery`), with `?` after `map_error`.
pub fn decoders(fields: &[Field], map_error: &TokenStream) -> Vec<TokenStream> {
    let mut caps = 0usize;
    fields
        .iter()
        .map(|field| {
            if field.is_cap() {
                caps += 1;
                let index = caps - 1;
                quote!(__delivery.take_cap(#index) #map_error ?)
            } else {
                quote!(::stubs::wire::Decode::decode(&mut __reader) #map_error ?)
            }
        })
        .collect()
}

/// A constant expression: the layout of the payload of `fields` (all but
/// the capabilities), an array of `(ALIGN, COUNT)` of `wire::Fixed` for
/// `wire::fixed_positions` and `wire::fixed_length`, if each has a fixed
/// size (integers, `bool`s and arrays of them).
pub fn payload_layout(fields: &[Field]) -> Option<TokenStream> {
    let entries = fields
        .iter()
        .filter(|field| !field.is_cap())
        .map(|field| match &field.kind {
            FieldType::Scalar(_) | FieldType::Array(..) => {
                let ty = owned(&field.kind, &TokenStream::new());
                Some(quote! {
                    (<#ty as ::stubs::wire::Fixed>::ALIGN, <#ty as ::stubs::wire::Fixed>::COUNT)
                })
            }
            FieldType::Bytes(_) | FieldType::Str(_) | FieldType::Cap => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(quote!([#(#entries),*]))
}

/// A constant expression: the payload length of `fields` in bytes, if it is
/// the same for every value (integers, `bool`s and arrays of them only; no
/// capability). It is what `Encode::end` gives, field after field.
pub fn fixed_length(fields: &[Field]) -> Option<TokenStream> {
    if fields.iter().any(Field::is_cap) {
        return None;
    }
    let layout = payload_layout(fields)?;
    Some(quote!(::stubs::wire::fixed_length(#layout)))
}

/// Statements that read `fields` (all of a fixed size, no capability) from
/// the payload words `payload` at the constant positions `positions` (an
/// array of `wire::fixed_positions`) into local variables of their names,
/// or else evaluate `reject` (which must diverge) with the error code
/// `__code`: the fields of a one-fragment message whose header was checked
/// in one comparison (so its length is exact), read straight from the
/// fragment.
pub fn fixed_decoding(
    fields: &[Field],
    payload: &TokenStream,
    positions: &Ident,
    reject: &TokenStream,
) -> TokenStream {
    let names: Vec<_> = fields.iter().map(|field| &field.name).collect();
    let types: Vec<_> = fields.iter().map(|field| owned(&field.kind, &TokenStream::new())).collect();
    let indices = 0..fields.len();
    quote! {
        #[allow(unused_variables, clippy::let_unit_value)]
        let __fields = {
            let __payload: &[u64] = #payload;
            (|| -> ::core::result::Result<_, ::stubs::ErrorCode> {
                #(let #names: #types = <#types as ::stubs::wire::Fixed>::read(__payload, #positions[#indices])?;)*
                ::core::result::Result::Ok((#(#names,)*))
            })()
        };
        let (#(#names,)*) = match __fields {
            ::core::result::Result::Ok(__fields) => __fields,
            ::core::result::Result::Err(__code) => #reject,
        };
    }
}
