//! api.py's `APIClient`: one method per RPC method, typed subscriptions to streams and
//! channels, publish methods, the module-level codecs they use, and the README's example call.

use std::collections::BTreeSet;

use crate::{
    ir::{Channel, Method, Stream, TypeKind, TypeRef},
    naming::{snake, words},
    CodegenError,
};

use super::{
    docs::{app_errors_doc, doc_type, wrap, DOC_WIDTH},
    names::{identifier, member_name, method_ident, py_str},
    Adapter, Builder, Codec, Example, PyMethod, PyPublish, PySubscribe, Shape,
};

impl Builder<'_> {
    /// The README's example call: the IR's example method, its params class written with a
    /// placeholder for each field a caller must give.
    pub(super) fn example(&self, methods: &[PyMethod]) -> Option<Example> {
        let m = self.api.example_method()?;
        let pm = &methods[self.api.methods.iter().position(|x| std::ptr::eq(x, m))?];
        let args = |fields: &[crate::ir::Field]| -> Option<Vec<String>> {
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
                    Some(format!("{}={value}", member_name(&f.words)))
                })
                .collect()
        };
        if let Some(TypeRef::Named { name }) = &m.params {
            if let Some(TypeKind::Struct { fields }) = self.defs.get(name).map(|d| &d.kind) {
                if let Some(args) = args(fields) {
                    let class = self.py_name(name);
                    return Some(Example {
                        method: pm.name.clone(),
                        argument: format!("{class}({})", args.join(", ")),
                        params_type: Some(class),
                    });
                }
            }
        }
        Some(Example {
            method: pm.name.clone(),
            params_type: None,
            argument: if pm.params_arg.is_some() {
                "...".into()
            } else {
                String::new()
            },
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
        api_uses: &mut BTreeSet<String>,
        model_uses: &mut BTreeSet<String>,
        adapters: &mut Vec<Adapter>,
        codecs: &mut Vec<Codec>,
    ) -> Result<PyMethod, CodegenError> {
        let name = method_ident(&m.words);
        let screaming_name = name.trim_end_matches('_').to_uppercase();
        let note_models = |b: &Builder<'_>, r: &TypeRef, uses: &mut BTreeSet<String>| {
            fn walk(b: &Builder<'_>, r: &TypeRef, out: &mut BTreeSet<String>) {
                match r {
                    TypeRef::Named { name } => {
                        out.insert(b.py_name(name));
                    }
                    TypeRef::Array { items } => walk(b, items, out),
                    TypeRef::Map { keys, values } => {
                        walk(b, keys, out);
                        walk(b, values, out);
                    }
                    TypeRef::Nullable { inner } => walk(b, inner, out),
                    _ => {}
                }
            }
            walk(b, r, uses);
        };
        let is_class = |b: &Builder<'_>, r: &TypeRef| matches!(r, TypeRef::Named { name } if matches!(b.shapes.get(name), Some(Shape::Class)));

        let (params_arg, params_expr, params_ty) = match &m.params {
            None => (None, "None".to_owned(), String::new()),
            Some(p) => {
                let mut ty = self.api_ty(p, api_uses);
                note_models(self, p, model_uses);
                let expr = if let Some(output) = self.output_twin(p) {
                    // A result of the output twin is accepted too, read back through this
                    // type's contract, so a result can be modified and sent back.
                    let output = self.py_name(&output);
                    model_uses.insert(output.clone());
                    let convert = self.as_input(&ty, &output, codecs);
                    ty = format!("{ty} | {output}");
                    format!(
                        "{convert}(params).model_dump(mode=\"json\", by_alias=True, exclude_unset=True)"
                    )
                } else if is_class(self, p) {
                    "params.model_dump(mode=\"json\", by_alias=True, exclude_unset=True)".to_owned()
                } else {
                    let adapter = format!("_{screaming_name}_PARAMS");
                    adapters.push(Adapter {
                        name: adapter.clone(),
                        ty: ty.clone(),
                    });
                    format!(
                        "{adapter}.dump_python(params, mode=\"json\", by_alias=True, exclude_unset=True)"
                    )
                };
                (Some(format!("params: {ty}")), expr, ty)
            }
        };
        let result_ty = self.api_ty(&m.result, api_uses);
        note_models(self, &m.result, model_uses);
        let returns = match &m.result {
            TypeRef::Null => None,
            TypeRef::Any => Some("return data".to_owned()),
            r if is_class(self, r) => {
                api_uses.insert("json".into());
                Some(format!(
                    "return {result_ty}.model_validate_json(json.dumps(data), strict=True)"
                ))
            }
            _ => {
                api_uses.insert("json".into());
                let adapter = format!("_{screaming_name}_RESULT");
                adapters.push(Adapter {
                    name: adapter.clone(),
                    ty: result_ty.clone(),
                });
                Some(format!(
                    "return {adapter}.validate_json(json.dumps(data), strict=True)"
                ))
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
            wire_literal: py_str(&m.name),
            params_arg,
            params_expr,
            result_ty,
            decodes: !matches!(m.result, TypeRef::Null | TypeRef::Any),
            idempotent: m.idempotent,
            returns,
            doc,
            summary: description.lines().next().unwrap_or_default().to_owned(),
            params_ty,
            name,
        })
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

    /// The name of a codec function for `r` (`_decode_task_event`), added once per type.
    #[allow(clippy::too_many_arguments)]
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

    /// The function `_as_<input>` that returns an `input` as it is and reads an `output` (its
    /// output twin) back as one: through JSON, with the input's contract, as the server would.
    fn as_input(&self, input: &str, output: &str, codecs: &mut Vec<Codec>) -> String {
        let name = format!("_as_{}", snake(&words(input)));
        if !codecs.iter().any(|c| c.name == name) {
            codecs.push(Codec {
                name: name.clone(),
                arg_ty: format!("{input} | {output}"),
                ret_ty: input.to_owned(),
                body: format!(
                    "(\n        value\n        if isinstance(value, {input})\n        else \
                     {input}.model_validate_json(\n            value.model_dump_json(by_alias=True, \
                     exclude_unset=True), strict=True\n        )\n    )"
                ),
                arg: "value".into(),
            });
        }
        name
    }

    pub(super) fn codec(
        &mut self,
        r: &TypeRef,
        decode: bool,
        api_uses: &mut BTreeSet<String>,
        model_uses: &mut BTreeSet<String>,
        adapters: &mut Vec<Adapter>,
        codecs: &mut Vec<Codec>,
    ) -> String {
        let ty = self.api_ty(r, api_uses);
        self.note_models(r, model_uses);
        api_uses.insert("Any".into());
        let verb = if decode { "decode" } else { "encode" };
        if let Some(c) = codecs.iter().find(|c| {
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
        let body = if decode {
            api_uses.insert("json".into());
            match r {
                TypeRef::Any => "data".to_owned(),
                r if self.is_class(r) => return_call(
                    &format!("{ty}.model_validate_json"),
                    "json.dumps(data), strict=True",
                ),
                _ => {
                    let adapter = format!("{}_ADAPTER", name.to_uppercase());
                    adapters.push(Adapter {
                        name: adapter.clone(),
                        ty: ty.clone(),
                    });
                    return_call(
                        &format!("{adapter}.validate_json"),
                        "json.dumps(data), strict=True",
                    )
                }
            }
        } else if self.is_class(r) {
            return_call(
                "value.model_dump",
                "mode=\"json\", by_alias=True, exclude_unset=True",
            )
        } else {
            let adapter = format!("{}_ADAPTER", name.to_uppercase());
            adapters.push(Adapter {
                name: adapter.clone(),
                ty: ty.clone(),
            });
            return_call(
                &format!("{adapter}.dump_python"),
                "value, mode=\"json\", by_alias=True, exclude_unset=True",
            )
        };
        codecs.push(if decode {
            Codec {
                name: name.clone(),
                arg_ty: "Any".into(),
                ret_ty: ty,
                body,
                arg: "data".into(),
            }
        } else {
            Codec {
                name: name.clone(),
                arg_ty: ty,
                ret_ty: "Any".into(),
                body,
                arg: "value".into(),
            }
        });
        name
    }

    pub(super) fn stream(
        &mut self,
        st: &Stream,
        api_uses: &mut BTreeSet<String>,
        model_uses: &mut BTreeSet<String>,
        adapters: &mut Vec<Adapter>,
        codecs: &mut Vec<Codec>,
    ) -> PySubscribe {
        let name = method_ident(&st.words);
        let (params_arg, params_expr) = match &st.params {
            None => (None, "None".to_owned()),
            Some(p) => {
                let ty = self.api_ty(p, api_uses);
                self.note_models(p, model_uses);
                let expr = if self.is_class(p) {
                    "params.model_dump(mode=\"json\", by_alias=True, exclude_unset=True)".to_owned()
                } else {
                    let adapter = format!("_{}_PARAMS", name.trim_end_matches('_').to_uppercase());
                    adapters.push(Adapter {
                        name: adapter.clone(),
                        ty: ty.clone(),
                    });
                    format!(
                        "{adapter}.dump_python(params, mode=\"json\", by_alias=True, exclude_unset=True)"
                    )
                };
                (Some(format!("params: {ty}")), expr)
            }
        };
        let decode = self.codec(&st.item, true, api_uses, model_uses, adapters, codecs);
        let item_ty = self.api_ty(&st.item, api_uses);
        let (class, return_ty, encode, publication_ty) = match &st.publication {
            None => (
                "Subscription",
                format!("Subscription[{item_ty}]"),
                None,
                None,
            ),
            Some(p) => {
                let enc = self.codec(p, false, api_uses, model_uses, adapters, codecs);
                let pty = self.api_ty(p, api_uses);
                (
                    "PublishingSubscription",
                    format!("PublishingSubscription[{item_ty}, {pty}]"),
                    Some(enc),
                    Some(pty),
                )
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
            keyed: st.keyed,
            params_arg,
            params_expr,
            channel_expr: channel_expr(&st.prefix, st.keyed),
            return_ty,
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
        api_uses: &mut BTreeSet<String>,
        model_uses: &mut BTreeSet<String>,
        adapters: &mut Vec<Adapter>,
        codecs: &mut Vec<Codec>,
    ) -> (PySubscribe, Option<PyPublish>) {
        let prefixed = |verb: &str| {
            let mut w = vec![verb.to_owned()];
            w.extend(ch.words.iter().cloned());
            method_ident(&w)
        };
        let name = prefixed("subscribe");
        let decode = self.codec(
            &ch.publication,
            true,
            api_uses,
            model_uses,
            adapters,
            codecs,
        );
        let item_ty = self.api_ty(&ch.publication, api_uses);
        let shown = shown_pattern(&ch.prefix, ch.keyed);
        let description = ch.description.clone().unwrap_or_default();
        let summary = description.lines().next().unwrap_or_default().to_owned();
        let channel = channel_expr(&ch.prefix, ch.keyed);
        let mut generated = format!(
            "Subscribes to ``{shown}`` on the first iteration, or on ``async with``; each \
             publication is {}.",
            doc_type(&item_ty)
        );
        let (class, return_ty, encode, publication_ty, publish) = match &ch.client_publication {
            None => (
                "Subscription",
                format!("Subscription[{item_ty}]"),
                None,
                None,
                None,
            ),
            Some(p) => {
                let enc = self.codec(p, false, api_uses, model_uses, adapters, codecs);
                let pty = self.api_ty(p, api_uses);
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
                    keyed: ch.keyed,
                    channel_expr: channel.clone(),
                    value_ty: pty.clone(),
                    encode: enc.clone(),
                    doc: pdoc,
                    summary: summary.clone(),
                };
                (
                    "PublishingSubscription",
                    format!("PublishingSubscription[{item_ty}, {pty}]"),
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
            keyed: ch.keyed,
            params_arg: None,
            params_expr: "None".into(),
            channel_expr: channel,
            return_ty,
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

/// `return <call>(<args>)` at function-body indentation, split as ruff formats it when longer
/// than 100 columns.
fn return_call(call: &str, args: &str) -> String {
    let one = format!("    return {call}({args})");
    if one.len() <= 100 {
        return format!("{call}({args})");
    }
    format!("{call}(\n        {args}\n    )")
}

/// The channel expression of a pattern: the channel itself, or its prefix `+ key`.
fn channel_expr(prefix: &str, keyed: bool) -> String {
    if !keyed {
        py_str(prefix)
    } else if prefix.is_empty() {
        "key".to_owned()
    } else {
        format!("{} + key", py_str(prefix))
    }
}

/// How the README and docs show a pattern: `tally:<key>`.
fn shown_pattern(prefix: &str, keyed: bool) -> String {
    if keyed {
        format!("{prefix}<key>")
    } else {
        prefix.to_owned()
    }
}
