//! The model builder: how IR types become models.py's classes, aliases and ranged number
//! aliases, their fields, defaults and annotations.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::{
    ir::{Api, Field, Payload, TypeDef, TypeKind, TypeRef, UntaggedVariant, Variant},
    naming::{pascal, words},
    CodegenError,
};

use super::{
    docs::docstring,
    names::{
        identifier, member_name, py_literal, py_str, tuple_literal, type_name, KEYWORDS,
        RESERVED_TYPES,
    },
    Alias, Builder, Class, PyField, RangedAlias, Shape,
};

impl<'a> Builder<'a> {
    pub(super) fn new(api: &'a Api) -> Result<Self, CodegenError> {
        let mut names = BTreeMap::new();
        let mut shapes = BTreeMap::new();
        let mut defs = BTreeMap::new();
        for t in &api.types {
            names.insert(t.name.clone(), type_name(&t.words));
            defs.insert(t.name.clone(), t);
            let shape = match &t.kind {
                TypeKind::Struct { .. } => Shape::Class,
                _ => Shape::Alias,
            };
            shapes.insert(t.name.clone(), shape);
        }
        let internal_payloads = api.internal_variant_tags();
        // Hoisted variant structs of adjacently and externally tagged enums have no description
        // of their own: say where they come from.
        let payload_docs = api
            .variant_origins()
            .into_iter()
            .filter(|(_, o)| o.internal_tag.is_none())
            .map(|(name, o)| {
                let doc = format!(
                    "The content of the ``{}`` variant of :data:`{}`.",
                    o.tag_value, names[&o.enum_name]
                );
                (name, doc)
            })
            .collect();
        let mut b = Self {
            api,
            payload_docs,
            names,
            shapes,
            defs,
            internal_payloads,
            recursive: BTreeSet::new(),
            uses: BTreeSet::new(),
            omit_none: false,
            ranged_aliases: BTreeMap::new(),
            plain_ints: false,
        };
        b.recursive = b.alias_cycles();
        Ok(b)
    }

    pub(super) fn py_name(&self, name: &str) -> String {
        self.names
            .get(name)
            .cloned()
            .unwrap_or_else(|| type_name(&words(name)))
    }

    /// The Python name of a synthesized variant class: `<Enum><Variant>[suffix]`.
    fn variant_class(&self, t: &TypeDef, v: &Variant, suffix: &str) -> String {
        let w: Vec<String> = t.words.iter().chain(&v.words).cloned().collect();
        let base = identifier(&pascal(&w));
        let name = format!("{base}{suffix}");
        if KEYWORDS.contains(&name.as_str()) || RESERVED_TYPES.contains(&name.as_str()) {
            type_name(&words(&name))
        } else {
            name
        }
    }

    /// Named aliases an alias's value refers to directly (not through a class).
    fn alias_refs(&self, t: &TypeDef) -> Vec<String> {
        fn walk(r: &TypeRef, out: &mut Vec<String>) {
            match r {
                TypeRef::Named { name } => out.push(name.clone()),
                TypeRef::Array { items } => walk(items, out),
                TypeRef::Map { keys, values } => {
                    walk(keys, out);
                    walk(values, out);
                }
                TypeRef::Nullable { inner } => walk(inner, out),
                _ => {}
            }
        }
        let mut out = Vec::new();
        match &t.kind {
            TypeKind::Alias { target } => walk(target, &mut out),
            TypeKind::Untagged { variants } => {
                for v in variants {
                    walk(&v.ty, &mut out);
                }
            }
            // Tagged and external unions refer to their variant classes only.
            _ => {}
        }
        out.retain(|n| matches!(self.shapes.get(n), Some(Shape::Alias)));
        out
    }

    /// Aliases on a cycle of alias references (`enum Expr { Num(f64), Neg(Box<Expr>) }`).
    fn alias_cycles(&self) -> BTreeSet<String> {
        let graph: BTreeMap<String, Vec<String>> = self
            .api
            .types
            .iter()
            .filter(|t| matches!(self.shapes.get(&t.name), Some(Shape::Alias)))
            .map(|t| (t.name.clone(), self.alias_refs(t)))
            .collect();
        let mut out = BTreeSet::new();
        for start in graph.keys() {
            // Is `start` reachable from itself?
            let mut stack: Vec<&String> = graph[start].iter().collect();
            let mut seen: BTreeSet<&String> = BTreeSet::new();
            while let Some(n) = stack.pop() {
                if n == start {
                    out.insert(start.clone());
                    break;
                }
                if seen.insert(n) {
                    if let Some(next) = graph.get(n) {
                        stack.extend(next.iter());
                    }
                }
            }
        }
        out
    }

    /// The annotation for a type. `quote` names the aliases that must be forward references
    /// (inside a recursive alias's value).
    pub(super) fn ty(&mut self, r: &TypeRef, quote: bool) -> String {
        self.ty_in(r, quote, false)
    }

    /// As [`Self::ty`]; `strict` renders the strict form for an untagged union's alternatives,
    /// so that constructing one from a Python value picks the alternative serde would (a `"3"`
    /// stays a string even when `float` comes first).
    fn ty_in(&mut self, r: &TypeRef, quote: bool, strict: bool) -> String {
        let strict_scalar = |b: &mut Self, lax: &str, strict_name: &'static str| {
            if strict {
                b.uses.insert(strict_name);
                strict_name.to_owned()
            } else {
                lax.to_owned()
            }
        };
        match r {
            TypeRef::String => strict_scalar(self, "str", "StrictStr"),
            TypeRef::Bool => strict_scalar(self, "bool", "StrictBool"),
            TypeRef::Integer { .. } if self.plain_ints => strict_scalar(self, "int", "StrictInt"),
            TypeRef::Integer { bits, signed } => {
                let base = strict_scalar(self, "int", "StrictInt");
                let (min, max) = r.integer_range().expect("an integer");
                let rust = format!("{}{bits}", if *signed { "i" } else { "u" });
                let name = format!(
                    "{}{}Int{bits}",
                    if strict { "Strict" } else { "" },
                    if *signed { "" } else { "U" }
                );
                self.uses.insert("Annotated");
                self.uses.insert("TypeAlias");
                self.ranged_aliases
                    .entry(name.clone())
                    .or_insert_with(|| RangedAlias {
                        name: name.clone(),
                        base,
                        min: min.to_string(),
                        max: max.to_string(),
                        doc: format!("An integer from {min} to {max} (Rust's `{rust}`)."),
                    });
                name
            }
            TypeRef::Number { bits: 32 } if !self.plain_ints => {
                let base = strict_scalar(self, "float", "StrictFloat");
                let max = r.float_limit().expect("a 32-bit float");
                let name = format!("{}Float32", if strict { "Strict" } else { "" });
                self.uses.insert("Annotated");
                self.uses.insert("TypeAlias");
                self.ranged_aliases
                    .entry(name.clone())
                    .or_insert_with(|| RangedAlias {
                        name: name.clone(),
                        base,
                        min: format!("{:?}", -max),
                        max: format!("{max:?}"),
                        doc: "A 32-bit float (Rust's `f32`): the server reads a larger magnitude \
                              as infinity."
                            .into(),
                    });
                name
            }
            TypeRef::Number { .. } => strict_scalar(self, "float", "StrictFloat"),
            TypeRef::DateTime => {
                self.uses.insert("AwareDatetime");
                "AwareDatetime".into()
            }
            TypeRef::Uuid => {
                self.uses.insert("UUID");
                "UUID".into()
            }
            TypeRef::Any => {
                self.uses.insert("Any");
                "Any".into()
            }
            TypeRef::Null => "None".into(),
            TypeRef::Named { name } => {
                let py = self.py_name(name);
                let py = if quote && self.recursive.contains(name) {
                    py_str(&py)
                } else {
                    py
                };
                let scalar_alias = matches!(
                    self.api.resolve(r),
                    TypeRef::String
                        | TypeRef::Bool
                        | TypeRef::Integer { .. }
                        | TypeRef::Number { .. }
                );
                if strict && scalar_alias {
                    self.uses.insert("Annotated");
                    self.uses.insert("Strict");
                    format!("Annotated[{py}, Strict()]")
                } else {
                    py
                }
            }
            TypeRef::Array { items } => format!("list[{}]", self.ty_in(items, quote, strict)),
            // Keys are always lax: JSON object keys are strings, and only lax `int` reads `"7"`.
            TypeRef::Map { keys, values } if matches!(**keys, TypeRef::Integer { .. }) => {
                format!("dict[int, {}]", self.ty_in(values, quote, strict))
            }
            TypeRef::Map { keys, values } => format!(
                "dict[{}, {}]",
                self.ty_in(keys, quote, false),
                self.ty_in(values, quote, strict)
            ),
            TypeRef::Nullable { inner } => {
                if inner.is_nullable() {
                    self.ty_in(inner, quote, strict)
                } else {
                    let i = self.ty_in(inner, quote, strict);
                    if i.starts_with('"') {
                        // `"A" | None` does not evaluate; quote the whole union instead.
                        py_str(&format!("{} | None", &i[1..i.len() - 1]))
                    } else {
                        format!("{i} | None")
                    }
                }
            }
        }
    }

    /// Whether `default` can be written as a plain Python literal of type `ty` (otherwise it is
    /// given to `Field(default=…, validate_default=True)`).
    fn plain_default(&self, ty: &TypeRef, default: &Value) -> bool {
        let ty = match self.api.resolve(ty) {
            TypeRef::Nullable { inner } => {
                if default.is_null() {
                    return true;
                }
                self.api.resolve(inner)
            }
            other => other,
        };
        match (ty, default) {
            (TypeRef::Any, _) => !default.is_array() && !default.is_object(),
            (TypeRef::Bool, Value::Bool(_)) => true,
            (TypeRef::Integer { .. }, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (TypeRef::Number { .. }, Value::Number(_)) => true,
            (TypeRef::String, Value::String(_)) => true,
            (TypeRef::Named { name }, Value::String(s)) => matches!(
                self.defs.get(name).map(|d| &d.kind),
                Some(TypeKind::StringEnum { values }) if values.iter().any(|v| &v.value == s)
            ),
            _ => false,
        }
    }

    /// One field declaration. Returns the field and whether it is always sent / left out when
    /// `None`.
    /// One field: its declaration, Python name, whether it is always sent, and whether `None`
    /// leaves it out.
    fn field(&mut self, f: &Field) -> (PyField, String, bool, bool) {
        let name = member_name(&f.words);
        let mut annotation = self.ty(&f.ty, false);
        let nullable = f.ty.is_nullable()
            || matches!(
                self.api.resolve(&f.ty),
                TypeRef::Any | TypeRef::Null | TypeRef::Nullable { .. }
            );
        let mut always_sent = false;
        let mut omit_none = false;
        let mut doc = f.description.clone().unwrap_or_default();
        // (expression, needs validate_default)
        let default: Option<(String, bool)> = match (&f.default, f.required) {
            (Some(d), required) => {
                always_sent = required;
                Some((py_literal(d), !self.plain_default(&f.ty, d)))
            }
            (None, true) => None,
            (None, false) => {
                if !nullable {
                    annotation = format!("{annotation} | None");
                    omit_none = true;
                    if !doc.is_empty() {
                        doc.push_str("\n\n");
                    }
                    doc.push_str("``None`` (the default) leaves it out.");
                }
                Some(("None".into(), false))
            }
        };
        let decl = field_decl(&name, &annotation, &f.wire, default);
        (
            PyField {
                decl,
                doc: docstring(&doc, "    "),
            },
            name,
            always_sent,
            omit_none,
        )
    }

    fn class(
        &mut self,
        name: String,
        description: Option<&str>,
        tag: Option<(&str, &str)>,
        fields: &[Field],
        base: Option<String>,
    ) -> Result<Class, CodegenError> {
        let mut py_fields = Vec::new();
        let mut always_sent = Vec::new();
        let mut omit_none = Vec::new();
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        if let Some((wire, value)) = tag {
            let field_name = member_name(&words(wire));
            self.uses.insert("Literal");
            let annotation = format!("Literal[{}]", py_str(value));
            py_fields.push(PyField {
                decl: field_decl(&field_name, &annotation, wire, Some((py_str(value), false))),
                doc: String::new(),
            });
            always_sent.push(field_name.clone());
            seen.insert(field_name, wire.to_owned());
        }
        for f in fields {
            let (pf, fname, sent, omit) = self.field(f);
            if let Some(prev) = seen.insert(fname.clone(), f.wire.clone()) {
                return Err(CodegenError::Collision(format!(
                    "fields `{prev}` and `{}` of `{name}` would both be the Python attribute `{fname}`; rename one",
                    f.wire
                )));
            }
            if sent {
                always_sent.push(fname.clone());
            }
            if omit {
                omit_none.push(fname.clone());
                if fname != f.wire {
                    omit_none.push(f.wire.clone());
                }
            }
            py_fields.push(pf);
        }
        if !always_sent.is_empty() || !omit_none.is_empty() {
            self.uses.insert("ClassVar");
        }
        if !omit_none.is_empty() {
            self.omit_none = true;
        }
        let parent = base.clone();
        let base = base.unwrap_or_else(|| {
            if omit_none.is_empty() {
                "_Model".into()
            } else {
                "_OmitNone".into()
            }
        });
        let mut body = Vec::new();
        let doc = docstring(description.unwrap_or_default(), "    ");
        if !doc.is_empty() {
            body.push(doc);
        }
        let mut class_vars = Vec::new();
        if !always_sent.is_empty() {
            let mut value = tuple_literal(&always_sent);
            if let Some(parent) = &parent {
                // Keep what the parent always sends.
                value = format!(
                    "(*{parent}._always_sent, {})",
                    always_sent
                        .iter()
                        .map(|s| py_str(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            class_vars.push(format!(
                "    _always_sent: ClassVar[tuple[str, ...]] = {value}"
            ));
        }
        if !omit_none.is_empty() {
            class_vars.push(format!(
                "    _omit_none: ClassVar[tuple[str, ...]] = {}",
                tuple_literal(&omit_none)
            ));
        }
        if !class_vars.is_empty() {
            body.push(class_vars.join("\n"));
        }
        for f in py_fields {
            body.push(format!("{}{}", f.decl, f.doc));
        }
        if body.is_empty() {
            body.push("    pass".into());
        }
        Ok(Class {
            name,
            base,
            body: body.into_iter().map(|b| b.trim_end().to_owned()).collect(),
        })
    }

    /// Every class and alias of models.py, classes first (sorted, subclasses last), aliases in
    /// dependency order.
    pub(super) fn models(&mut self) -> Result<(Vec<Class>, Vec<Alias>), CodegenError> {
        let mut classes = Vec::new();
        let mut subclasses = Vec::new();
        let mut aliases: BTreeMap<String, Alias> = BTreeMap::new();
        let types: Vec<&TypeDef> = self.api.types.iter().collect();
        for t in types {
            let name = self.py_name(&t.name);
            match &t.kind {
                TypeKind::Struct { fields } => {
                    let tag = self.internal_payloads.get(&t.name).cloned();
                    let doc = t
                        .description
                        .clone()
                        .or_else(|| self.payload_docs.get(&t.name).cloned());
                    let c = self.class(
                        name,
                        doc.as_deref(),
                        tag.as_ref().map(|(w, v)| (w.as_str(), v.as_str())),
                        fields,
                        None,
                    )?;
                    classes.push(c);
                }
                TypeKind::StringEnum { values } => {
                    self.uses.insert("Literal");
                    self.uses.insert("TypeAlias");
                    let value = format!(
                        "Literal[{}]",
                        values
                            .iter()
                            .map(|v| py_str(&v.value))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    let mut doc = t.description.clone().unwrap_or_default();
                    let documented: Vec<String> = values
                        .iter()
                        .filter_map(|v| {
                            v.description
                                .as_ref()
                                .map(|d| format!("- ``{}``: {d}", py_str(&v.value)))
                        })
                        .collect();
                    if !documented.is_empty() {
                        if !doc.is_empty() {
                            doc.push_str("\n\n");
                        }
                        doc.push_str(&documented.join("\n"));
                    }
                    aliases.insert(
                        t.name.clone(),
                        Alias {
                            name,
                            value,
                            recursive: false,
                            statement: String::new(),
                            doc: docstring(&doc, ""),
                        },
                    );
                }
                TypeKind::Tagged {
                    tag,
                    content,
                    variants,
                } => {
                    let mut members = Vec::new();
                    let tag_attr = member_name(&words(tag));
                    for v in variants {
                        let at = format!("type `{}`, variant `{}`", t.name, v.tag_value);
                        match (content, &v.payload) {
                            (None, Payload::Fields { type_name, .. }) => {
                                members.push(self.py_name(type_name));
                            }
                            (None, Payload::Unit) => {
                                let cname = self.variant_class(t, v, "");
                                classes.push(self.class(
                                    cname.clone(),
                                    v.description.as_deref(),
                                    Some((tag, &v.tag_value)),
                                    &[],
                                    None,
                                )?);
                                members.push(cname);
                            }
                            (None, Payload::Type { ty }) => {
                                let parent = match self.api.resolve(ty) {
                                    TypeRef::Named { name }
                                        if matches!(self.shapes.get(name), Some(Shape::Class)) =>
                                    {
                                        self.py_name(name)
                                    }
                                    _ => {
                                        return Err(CodegenError::Unsupported {
                                            at,
                                            problem: "an internally tagged variant must hold fields or a struct (serde cannot put the tag next to another value)".into(),
                                        })
                                    }
                                };
                                let cname = self.variant_class(t, v, "");
                                subclasses.push(self.class(
                                    cname.clone(),
                                    v.description.as_deref(),
                                    Some((tag, &v.tag_value)),
                                    &[],
                                    Some(parent),
                                )?);
                                members.push(cname);
                            }
                            (Some(content), payload) => {
                                let cname = self.variant_class(t, v, "Variant");
                                let fields: Vec<Field> = match payload {
                                    Payload::Unit => vec![],
                                    Payload::Fields { type_name, .. } => vec![content_field(
                                        content,
                                        TypeRef::Named {
                                            name: type_name.clone(),
                                        },
                                    )],
                                    Payload::Type { ty } => {
                                        vec![content_field(content, ty.clone())]
                                    }
                                };
                                classes.push(self.class(
                                    cname.clone(),
                                    v.description.as_deref(),
                                    Some((tag, &v.tag_value)),
                                    &fields,
                                    None,
                                )?);
                                members.push(cname);
                            }
                        }
                    }
                    let union = members.join(" | ");
                    let value = if members.len() > 1 {
                        self.uses.insert("Annotated");
                        format!(
                            "Annotated[{union}, Field(discriminator={})]",
                            py_str(&tag_attr)
                        )
                    } else {
                        union
                    };
                    self.uses.insert("TypeAlias");
                    let mut doc = t.description.clone().unwrap_or_default();
                    if !doc.is_empty() {
                        doc.push_str("\n\n");
                    }
                    doc.push_str(&format!(
                        "One of {}, told apart by ``{}``.",
                        members
                            .iter()
                            .map(|m| format!(":class:`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        tag
                    ));
                    aliases.insert(
                        t.name.clone(),
                        Alias {
                            name,
                            value,
                            recursive: false,
                            statement: String::new(),
                            doc: docstring(&doc, ""),
                        },
                    );
                }
                TypeKind::External { variants } => {
                    let mut units = Vec::new();
                    let mut members = Vec::new();
                    for v in variants {
                        match &v.payload {
                            Payload::Unit => units.push(py_str(&v.tag_value)),
                            Payload::Fields { type_name, .. } => {
                                let cname = self.variant_class(t, v, "Variant");
                                let f = content_field(
                                    &v.tag_value,
                                    TypeRef::Named {
                                        name: type_name.clone(),
                                    },
                                );
                                classes.push(self.class(
                                    cname.clone(),
                                    v.description.as_deref(),
                                    None,
                                    &[f],
                                    None,
                                )?);
                                members.push(cname);
                            }
                            Payload::Type { ty } => {
                                let cname = self.variant_class(t, v, "Variant");
                                let f = content_field(&v.tag_value, ty.clone());
                                classes.push(self.class(
                                    cname.clone(),
                                    v.description.as_deref(),
                                    None,
                                    &[f],
                                    None,
                                )?);
                                members.push(cname);
                            }
                        }
                    }
                    if !units.is_empty() {
                        self.uses.insert("Literal");
                        members.insert(0, format!("Literal[{}]", units.join(", ")));
                    }
                    let value = self.union(&members);
                    self.uses.insert("TypeAlias");
                    let mut doc = t.description.clone().unwrap_or_default();
                    if !doc.is_empty() {
                        doc.push_str("\n\n");
                    }
                    let described: Vec<String> = variants
                        .iter()
                        .map(|v| match &v.payload {
                            Payload::Unit => format!("``{}``", py_str(&v.tag_value)),
                            _ => format!(":class:`{}`", self.variant_class(t, v, "Variant")),
                        })
                        .collect();
                    doc.push_str(&format!("One of {}.", described.join(", ")));
                    aliases.insert(
                        t.name.clone(),
                        Alias {
                            name,
                            value,
                            recursive: false,
                            statement: String::new(),
                            doc: docstring(&doc, ""),
                        },
                    );
                }
                TypeKind::Untagged { variants } => {
                    let quote = self.recursive.contains(&t.name);
                    // An alternative that is the enum itself adds nothing (and no type checker
                    // accepts a union containing itself).
                    let variants: Vec<&UntaggedVariant> = variants
                        .iter()
                        .filter(|v| !matches!(&v.ty, TypeRef::Named { name } if name == &t.name))
                        .collect();
                    let members: Vec<String> = variants
                        .iter()
                        .map(|v| self.ty_in(&v.ty, quote, true))
                        .collect();
                    let value = self.union(&members);
                    self.uses.insert("TypeAlias");
                    let shown: Vec<String> = {
                        let saved = self.uses.clone();
                        let shown = variants.iter().map(|v| self.ty(&v.ty, false)).collect();
                        self.uses = saved;
                        shown
                    };
                    let members = shown;
                    let mut doc = t.description.clone().unwrap_or_default();
                    let documented: Vec<String> = variants
                        .iter()
                        .zip(&members)
                        .filter_map(|(v, m)| {
                            v.description.as_ref().map(|d| format!("- ``{m}``: {d}"))
                        })
                        .collect();
                    if !doc.is_empty() {
                        doc.push_str("\n\n");
                    }
                    doc.push_str("The first alternative that fits, in this order:");
                    if documented.len() == variants.len() {
                        doc.push_str("\n\n");
                        doc.push_str(&documented.join("\n"));
                    } else {
                        doc.push_str(&format!(" ``{}``.", members.join("``, ``")));
                    }
                    aliases.insert(
                        t.name.clone(),
                        Alias {
                            name,
                            value,
                            recursive: quote,
                            statement: String::new(),
                            doc: docstring(&doc, ""),
                        },
                    );
                }
                TypeKind::Alias { target } => {
                    let quote = self.recursive.contains(&t.name);
                    let value = self.ty(target, quote);
                    self.uses.insert("TypeAlias");
                    aliases.insert(
                        t.name.clone(),
                        Alias {
                            name,
                            value,
                            recursive: quote,
                            statement: String::new(),
                            doc: docstring(t.description.as_deref().unwrap_or_default(), ""),
                        },
                    );
                }
            }
        }
        if aliases.values().any(|a| a.recursive) {
            self.uses.insert("TYPE_CHECKING");
            self.uses.insert("TypeAliasType");
        }
        classes.sort_by(|a, b| a.name.cmp(&b.name));
        classes.extend(subclasses);

        // Every generated name must be unique.
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for n in classes
            .iter()
            .map(|c| (c.name.as_str(), "class"))
            .chain(aliases.values().map(|a| (a.name.as_str(), "alias")))
        {
            if seen.insert(n.0, n.1).is_some() {
                return Err(CodegenError::Collision(format!(
                    "two types would both be the Python name `{}` (an enum variant's generated class and another type); rename one",
                    n.0
                )));
            }
        }

        // Aliases in dependency order (recursive ones refer to each other by forward reference).
        let order = self.alias_order();
        let mut ordered = Vec::new();
        for name in order {
            if let Some(a) = aliases.remove(&name) {
                ordered.push(a);
            }
        }
        ordered.extend(aliases.into_values());
        for a in &mut ordered {
            a.statement = alias_statement(&a.name, &a.value, a.recursive);
        }
        Ok((classes, ordered))
    }

    /// A union of members: `A | B` in left-to-right mode, or the one member.
    fn union(&mut self, members: &[String]) -> String {
        if members.len() == 1 {
            return members[0].clone();
        }
        self.uses.insert("Annotated");
        let quoted = members.iter().any(|m| m.starts_with('"'));
        let union = if quoted {
            // A string forward reference cannot take part in `|` at runtime.
            py_str(
                &members
                    .iter()
                    .map(|m| {
                        if m.starts_with('"') {
                            serde_json::from_str::<String>(m).unwrap_or_else(|_| m.clone())
                        } else {
                            m.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" | "),
            )
        } else {
            members.join(" | ")
        };
        format!("Annotated[{union}, Field(union_mode=\"left_to_right\")]")
    }

    /// Alias names, each after the aliases its value evaluates (cycles broken arbitrarily; their
    /// references are forward references).
    fn alias_order(&self) -> Vec<String> {
        let mut order = Vec::new();
        let mut state: BTreeMap<String, u8> = BTreeMap::new();
        fn visit(
            b: &Builder<'_>,
            n: &str,
            state: &mut BTreeMap<String, u8>,
            order: &mut Vec<String>,
        ) {
            if state.get(n).copied().unwrap_or(0) != 0 {
                return;
            }
            state.insert(n.to_owned(), 1);
            if let Some(t) = b.defs.get(n) {
                if !b.recursive.contains(n) {
                    for d in b.alias_refs(t) {
                        visit(b, &d, state, order);
                    }
                }
            }
            state.insert(n.to_owned(), 2);
            order.push(n.to_owned());
        }
        // Recursive aliases only use forward references to each other, but non-recursive
        // aliases they mention must come first.
        for t in &self.api.types {
            if matches!(self.shapes.get(&t.name), Some(Shape::Alias)) {
                if self.recursive.contains(&t.name) {
                    for d in self.alias_refs(t) {
                        if !self.recursive.contains(&d) {
                            visit(self, &d, &mut state, &mut order);
                        }
                    }
                }
                visit(self, &t.name, &mut state, &mut order);
            }
        }
        order
    }
}

/// `value` at `indent`, after `prefix` on the first line: one line when it fits in 100
/// columns, else an `Annotated[...]` split into its type and metadata, and a type that still does
/// not fit split before each `|` of its union (as `ruff format` writes them).
fn wrap_value(value: &str, indent: &str, prefix: &str, suffix: &str) -> String {
    let one = format!("{indent}{prefix}{value}{suffix}");
    if one.len() <= 100 {
        return one;
    }
    if let Some(inner) = value
        .strip_prefix("Annotated[")
        .and_then(|v| v.strip_suffix(']'))
    {
        if let Some(at) = inner.rfind(", Field(") {
            let (ty, metadata) = (&inner[..at], &inner[at + 2..]);
            let ty = if format!("{indent}    {ty},").len() <= 100 {
                ty.to_owned()
            } else {
                union_members(ty).join(&format!("\n{indent}    | "))
            };
            return format!(
                "{indent}{prefix}Annotated[\n{indent}    {ty},\n{indent}    {metadata},\n{indent}]{suffix}"
            );
        }
    }
    one
}

/// The members of the union `ty` (`A | list[B | C]` → `A`, `list[B | C]`): split at its top-level
/// `|`, none inside brackets or a string.
fn union_members(ty: &str) -> Vec<&str> {
    let (mut members, mut start, mut depth, mut quoted) = (Vec::new(), 0, 0usize, false);
    for (i, c) in ty.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            '|' if !quoted && depth == 0 => {
                members.push(ty[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    members.push(ty[start..].trim());
    members
}

/// The definition of a type alias; a recursive one is a `TypeAliasType` at runtime (Pydantic
/// cannot follow a plain recursive alias) and a plain alias for type checkers.
fn alias_statement(name: &str, value: &str, recursive: bool) -> String {
    if !recursive {
        return wrap_value(value, "", &format!("{name}: TypeAlias = "), "");
    }
    let typed = wrap_value(value, "    ", &format!("{name}: TypeAlias = "), "");
    let one = format!("    {name} = TypeAliasType({}, {value})", py_str(name));
    let runtime = if one.len() <= 100 {
        one
    } else {
        format!(
            "    {name} = TypeAliasType(\n        {},\n{},\n    )",
            py_str(name),
            wrap_value(value, "        ", "", "")
        )
    };
    format!("if TYPE_CHECKING:\n{typed}\nelse:\n{runtime}")
}

/// The content field of an adjacently tagged variant or an externally tagged wrapper.
fn content_field(wire: &str, ty: TypeRef) -> Field {
    Field {
        wire: wire.to_owned(),
        words: words(wire),
        description: None,
        ty,
        required: true,
        default: None,
    }
}

/// `name: annotation[ = default]`, with the wire name as validation and serialization alias
/// when it differs. `default` is (expression, validate it).
fn field_decl(name: &str, annotation: &str, wire: &str, default: Option<(String, bool)>) -> String {
    let mut args = Vec::new();
    let aliased = name != wire;
    match &default {
        Some((expr, validate)) if aliased || *validate => {
            args.push(format!("default={expr}"));
            if *validate {
                args.push("validate_default=True".into());
            }
        }
        _ => {}
    }
    if aliased {
        args.push(format!("validation_alias={}", py_str(wire)));
        args.push(format!("serialization_alias={}", py_str(wire)));
    }
    let head = format!("    {name}: {annotation}");
    if args.is_empty() {
        return match default {
            Some((expr, _)) => format!("{head} = {expr}\n"),
            None => format!("{head}\n"),
        };
    }
    let one_line = format!("{head} = Field({})\n", args.join(", "));
    if one_line.len() <= 101 {
        return one_line;
    }
    let mut out = format!("{head} = Field(\n");
    for a in args {
        out.push_str(&format!("        {a},\n"));
    }
    out.push_str("    )\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_union_too_long_for_its_line_takes_a_line_per_member() {
        let members: Vec<String> = (0..8).map(|i| format!("SomeLongClassName{i}")).collect();
        let value = format!(
            "Annotated[{} | list[A | B] | \"C | D\", Field(union_mode=\"left_to_right\")]",
            members.join(" | ")
        );
        let mut want = String::from("X: TypeAlias = Annotated[\n    SomeLongClassName0\n");
        for m in &members[1..] {
            want.push_str(&format!("    | {m}\n"));
        }
        want.push_str("    | list[A | B]\n    | \"C | D\",\n");
        want.push_str("    Field(union_mode=\"left_to_right\"),\n]");
        assert_eq!(wrap_value(&value, "", "X: TypeAlias = ", ""), want);
        let short = "Annotated[A | B, Field(union_mode=\"left_to_right\")]";
        assert_eq!(
            wrap_value(short, "", "X: TypeAlias = ", ""),
            format!("X: TypeAlias = {short}")
        );
    }
}
