//! api.py's `APIClient`: one method per RPC method, typed subscriptions to streams and
//! channels, publish methods, the module-level adapters and codecs they use, and the README's
//! example call. Each value's encoder and decoder is a fact here; api.py.j2 writes the calls.

use std::collections::BTreeSet;

use crate::{
    ir::{Channel, Field, Method, Stream, TypeKind, TypeRef},
    naming::{snake, words},
    CodegenError,
};

use super::{
    docs::{app_errors_doc, doc_type, wrap, DOC_WIDTH},
    names::{identifier, member_name, method_ident, py_str},
    Adapter, Builder, Codec, CodecBody, Decoder, Encoder, Example, ExampleArgument, Params,
    PyMethod, PyPublish, PySubscribe, Shape,
};

/// What api.py declares and imports besides `APIClient`, collected as its methods are built.
#[derive(Default)]
pub(super) struct ApiParts {
    /// Names api.py imports from outside the package (`json`, `Any`, `UUID`, ...).
    pub(super) uses: BTreeSet<String>,
    /// The models api.py imports.
    pub(super) models: BTreeSet<String>,
    pub(super) adapters: Vec<Adapter>,
    pub(super) codecs: Vec<Codec>,
}

impl Builder<'_> {
    /// The README's example call: the IR's example method, its params class written with a
    /// placeholder for each field a caller must give.
    pub(super) fn example(&self, methods: &[PyMethod]) -> Option<Example> {
        let m = self.api.example_method()?;
        let pm = &methods[self.api.methods.iter().position(|x| std::ptr::eq(x, m))?];
        let arguments = |fields: &[Field]| -> Option<Vec<ExampleArgument>> {
            fields
                .iter()
                .filter(|f| f.required && f.default.is_none())
                .map(|f| {
                    let value = match self.api.resolve(&f.ty) {
                        TypeRef::String => "\"...\"".to_owned(),
                        TypeRef::Integer { .. } => "1".to_owned(),
                        TypeRef::Number { .. } => "1.0".to_owned(),
                        TypeRef::Bool => "True".to_owned(),
                        TypeRef::Named { name } => match self.defs.get(name).map(|d| &d.kind) {
                            Some(TypeKind::StringEnum { values }) => py_str(&values.first()?.value),
                            _ => return None,
                        },
                        _ => return None,
                    };
                    Some(ExampleArgument {
                        name: member_name(&f.words),
                        value,
                    })
                })
                .collect()
        };
        if let Some(TypeRef::Named { name }) = &m.params {
            if let Some(TypeKind::Struct { fields }) = self.defs.get(name).map(|d| &d.kind) {
                if let Some(arguments) = arguments(fields) {
                    return Some(Example {
                        method: pm.name.clone(),
                        params_type: Some(self.py_name(name)),
                        arguments,
                        takes_params: true,
                    });
                }
            }
        }
        Some(Example {
            method: pm.name.clone(),
            params_type: None,
            arguments: Vec::new(),
            takes_params: pm.params.is_some(),
        })
    }

    /// A type for api.py, noting the imports it needs there.
    pub(super) fn api_ty(&mut self, r: &TypeRef, api_uses: &mut BTreeSet<String>) -> String {
        let saved = std::mem::take(&mut self.uses);
        self.plain_ints = true;
        let ty = self.ty(r, false);
        self.plain_ints = false;
        let used = std::mem::replace(&mut self.uses, saved);
        api_uses.extend(used.into_iter().map(str::to_owned));
        ty
    }

    pub(super) fn method(
        &mut self,
        m: &Method,
        parts: &mut ApiParts,
    ) -> Result<PyMethod, CodegenError> {
        let name = method_ident(&m.words);
        let params = m.params.as_ref().map(|p| match self.output_twin(p) {
            Some(output) => {
                // A result of the output twin is accepted too, read back through this type's
                // contract, so a result can be modified and sent back.
                let ty = self.api_ty(p, &mut parts.uses);
                self.note_models(p, &mut parts.models);
                let output = self.py_name(&output);
                parts.models.insert(output.clone());
                let convert = self.as_input(&ty, &output, parts);
                Params {
                    ty: format!("{ty} | {output}"),
                    encoder: Encoder::Converted { convert },
                }
            }
            None => self.params(p, &name, parts),
        });
        let result_ty = self.api_ty(&m.result, &mut parts.uses);
        self.note_models(&m.result, &mut parts.models);
        let decoder = match &m.result {
            TypeRef::Null => None,
            r => {
                let adapter = format!("_{}_RESULT", constant_stem(&name));
                Some(self.decoder(r, &result_ty, adapter, parts))
            }
        };
        let description = m.description.clone().unwrap_or_default();
        let mut doc = description.clone();
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        doc.push_str(&format!("Calls ``{}``.", m.name));
        let errors = app_errors_doc(&m.errors, "may fail with");
        if !errors.is_empty() {
            doc.push_str("\n\n");
            doc.push_str(&errors);
        }
        Ok(PyMethod {
            wire: m.name.clone(),
            params,
            result_ty,
            decoder,
            idempotent: m.idempotent,
            doc,
            summary: description.lines().next().unwrap_or_default().to_owned(),
            name,
        })
    }

    /// The `params` argument of the method or stream `owner`.
    fn params(&mut self, p: &TypeRef, owner: &str, parts: &mut ApiParts) -> Params {
        let ty = self.api_ty(p, &mut parts.uses);
        self.note_models(p, &mut parts.models);
        let adapter = format!("_{}_PARAMS", constant_stem(owner));
        let encoder = self.encoder(p, &ty, adapter, parts);
        Params { ty, encoder }
    }

    /// How a value of `r` (annotated `ty`) is encoded: by the model, or else by a new
    /// `TypeAdapter` named `adapter`.
    fn encoder(&self, r: &TypeRef, ty: &str, adapter: String, parts: &mut ApiParts) -> Encoder {
        if self.is_class(r) {
            return Encoder::Model;
        }
        parts.adapters.push(Adapter {
            name: adapter.clone(),
            ty: ty.to_owned(),
        });
        Encoder::Adapter { adapter }
    }

    /// How data of `r` (annotated `ty`) is decoded: as it is, by the model, or else by a new
    /// `TypeAdapter` named `adapter`.
    fn decoder(&self, r: &TypeRef, ty: &str, adapter: String, parts: &mut ApiParts) -> Decoder {
        if matches!(r, TypeRef::Any) {
            return Decoder::Raw;
        }
        parts.uses.insert("json".into());
        if self.is_class(r) {
            return Decoder::Model {
                class: ty.to_owned(),
            };
        }
        parts.adapters.push(Adapter {
            name: adapter.clone(),
            ty: ty.to_owned(),
        });
        Decoder::Adapter { adapter }
    }

    /// Notes the model classes a type refers to, for api.py's imports.
    fn note_models(&self, r: &TypeRef, uses: &mut BTreeSet<String>) {
        match r {
            TypeRef::Named { name } => {
                uses.insert(self.py_name(name));
            }
            TypeRef::Array { items } => self.note_models(items, uses),
            TypeRef::Map { keys, values } => {
                self.note_models(keys, uses);
                self.note_models(values, uses);
            }
            TypeRef::Nullable { inner } => self.note_models(inner, uses),
            _ => {}
        }
    }

    fn is_class(&self, r: &TypeRef) -> bool {
        matches!(r, TypeRef::Named { name } if matches!(self.shapes.get(name), Some(Shape::Class)))
    }

    /// The type a params class is the input copy of (`Everything` for `EverythingInput`), when
    /// both are classes.
    fn output_twin(&self, r: &TypeRef) -> Option<String> {
        let TypeRef::Named { name } = r else {
            return None;
        };
        let output = self.defs.get(name)?.input_of.as_deref()?;
        (self.is_class(r) && matches!(self.shapes.get(output), Some(Shape::Class)))
            .then(|| output.to_owned())
    }

    /// The codec `_as_<input>` that returns an `input` as it is and reads an `output` (its
    /// output twin) back as one, added once.
    fn as_input(&self, input: &str, output: &str, parts: &mut ApiParts) -> String {
        let name = format!("_as_{}", snake(&words(input)));
        if !parts.codecs.iter().any(|c| c.name == name) {
            parts.codecs.push(Codec {
                name: name.clone(),
                arg_ty: format!("{input} | {output}"),
                ret_ty: input.to_owned(),
                body: CodecBody::AsInput {
                    input: input.to_owned(),
                },
            });
        }
        name
    }

    /// The name of a codec function that decodes (or encodes) `r` (`_decode_task_event`),
    /// added once per type.
    pub(super) fn codec(&mut self, r: &TypeRef, decode: bool, parts: &mut ApiParts) -> String {
        let ty = self.api_ty(r, &mut parts.uses);
        self.note_models(r, &mut parts.models);
        parts.uses.insert("Any".into());
        let verb = if decode { "decode" } else { "encode" };
        if let Some(c) = parts.codecs.iter().find(|c| {
            c.name.starts_with(&format!("_{verb}_"))
                && if decode {
                    c.ret_ty == ty
                } else {
                    c.arg_ty == ty
                }
        }) {
            return c.name.clone();
        }
        let base = match r {
            TypeRef::Named { name } => snake(&words(&self.py_name(name))),
            _ => identifier(&ty.to_lowercase())
                .split('_')
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join("_"),
        };
        let name = format!("_{verb}_{base}");
        let adapter = format!("{}_ADAPTER", name.to_uppercase());
        let codec = if decode {
            parts.uses.insert("json".into());
            Codec {
                name: name.clone(),
                arg_ty: "Any".into(),
                body: CodecBody::Decode {
                    decoder: self.decoder(r, &ty, adapter, parts),
                },
                ret_ty: ty,
            }
        } else {
            Codec {
                name: name.clone(),
                ret_ty: "Any".into(),
                body: CodecBody::Encode {
                    encoder: self.encoder(r, &ty, adapter, parts),
                },
                arg_ty: ty,
            }
        };
        parts.codecs.push(codec);
        name
    }

    pub(super) fn stream(&mut self, st: &Stream, parts: &mut ApiParts) -> PySubscribe {
        let name = method_ident(&st.words);
        let params = st.params.as_ref().map(|p| self.params(p, &name, parts));
        let decode = self.codec(&st.item, true, parts);
        let item_ty = self.api_ty(&st.item, &mut parts.uses);
        let (class, encode, publication_ty) = match &st.publication {
            None => ("Subscription", None, None),
            Some(p) => {
                let enc = self.codec(p, false, parts);
                let pty = self.api_ty(p, &mut parts.uses);
                ("PublishingSubscription", Some(enc), Some(pty))
            }
        };
        let shown = shown_pattern(&st.prefix, st.keyed);
        let description = st.description.clone().unwrap_or_default();
        let mut doc = description.clone();
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        let mut generated = format!(
            "Subscribes to the stream ``{}`` (channel ``{shown}``) on the first iteration, or on \
             ``async with``; each item is {}.",
            st.pattern,
            doc_type(&item_ty)
        );
        if let Some(p) = &publication_ty {
            generated.push_str(&format!(
                " ``publish()`` sends {} to the stream.",
                doc_type(p)
            ));
        }
        generated.push_str(
            " A refusal raises :class:`RPCError`; the iteration ends when the server ends the stream.",
        );
        doc.push_str(&wrap(&generated, DOC_WIDTH));
        let errors = app_errors_doc(&st.errors, "may refuse with");
        if !errors.is_empty() {
            doc.push_str("\n\n");
            doc.push_str(&errors);
        }
        PySubscribe {
            name,
            pattern: st.pattern.clone(),
            what: "stream".into(),
            prefix: st.prefix.clone(),
            keyed: st.keyed,
            params,
            class: class.into(),
            decode,
            encode,
            item_ty,
            publication_ty,
            doc,
            summary: description.lines().next().unwrap_or_default().to_owned(),
        }
    }

    pub(super) fn channel(
        &mut self,
        ch: &Channel,
        parts: &mut ApiParts,
    ) -> (PySubscribe, Option<PyPublish>) {
        let prefixed = |verb: &str| {
            let mut w = vec![verb.to_owned()];
            w.extend(ch.words.iter().cloned());
            method_ident(&w)
        };
        let name = prefixed("subscribe");
        let decode = self.codec(&ch.publication, true, parts);
        let item_ty = self.api_ty(&ch.publication, &mut parts.uses);
        let shown = shown_pattern(&ch.prefix, ch.keyed);
        let description = ch.description.clone().unwrap_or_default();
        let summary = description.lines().next().unwrap_or_default().to_owned();
        let mut generated = format!(
            "Subscribes to ``{shown}`` on the first iteration, or on ``async with``; each \
             publication is {}.",
            doc_type(&item_ty)
        );
        let (class, encode, publication_ty, publish) = match &ch.client_publication {
            None => ("Subscription", None, None, None),
            Some(p) => {
                let enc = self.codec(p, false, parts);
                let pty = self.api_ty(p, &mut parts.uses);
                generated.push_str(&format!(
                    " ``publish()`` publishes {} into it.",
                    doc_type(&pty)
                ));
                let mut pdoc = description.clone();
                if !pdoc.is_empty() {
                    pdoc.push_str("\n\n");
                }
                pdoc.push_str(&wrap(
                    &format!(
                        "Publishes {} into ``{shown}``. A refusal raises :class:`RPCError` \
                         with the server's code and message.",
                        doc_type(&pty)
                    ),
                    DOC_WIDTH,
                ));
                let publish = PyPublish {
                    name: prefixed("publish"),
                    pattern: ch.pattern.clone(),
                    prefix: ch.prefix.clone(),
                    keyed: ch.keyed,
                    value_ty: pty.clone(),
                    encode: enc.clone(),
                    doc: pdoc,
                    summary: summary.clone(),
                };
                (
                    "PublishingSubscription",
                    Some(enc),
                    Some(pty),
                    Some(publish),
                )
            }
        };
        generated.push_str(" A refusal raises :class:`RPCError`.");
        let mut doc = description.clone();
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        doc.push_str(&wrap(&generated, DOC_WIDTH));
        let sub = PySubscribe {
            name,
            pattern: ch.pattern.clone(),
            what: "channel".into(),
            prefix: ch.prefix.clone(),
            keyed: ch.keyed,
            params: None,
            class: class.into(),
            decode,
            encode,
            item_ty,
            publication_ty,
            doc,
            summary,
        };
        (sub, publish)
    }
}

/// The SCREAMING_CASE stem of a method's module-level names (`_TASK_STATS_PARAMS`).
fn constant_stem(method: &str) -> String {
    method.trim_end_matches('_').to_uppercase()
}

/// How the README and docs show a pattern: `tally:<key>`.
fn shown_pattern(prefix: &str, keyed: bool) -> String {
    if keyed {
        format!("{prefix}<key>")
    } else {
        prefix.to_owned()
    }
}
