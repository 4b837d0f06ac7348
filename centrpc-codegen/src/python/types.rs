//! The model builder: how IR types become models.py's classes, aliases and ranged number
//! aliases, their fields, defaults and annotations (models.py.j2 lays them out).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::{
    ir::{
        Api, Dialect, Field, Namespace, Payload, TypeDef, TypeKind, TypeRef, UntaggedVariant,
        Variant,
    },
    naming::{pascal, words},
    CodegenError,
};

use super::{
    names::{identifier, member_name, py_literal, py_str, type_name, KEYWORDS, RESERVED_TYPES},
    Alias, Builder, Class, PyField, RangedAlias, Shape, UnionMode,
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

    /// The [`variant_class`](Self::variant_class) of a variant that gets a class, claimed in
    /// models.py's `names`.
    fn claim_variant_class(
        &self,
        names: &mut Namespace,
        t: &TypeDef,
        v: &Variant,
        suffix: &str,
    ) -> Result<String, CodegenError> {
        let name = self.variant_class(t, v, suffix);
        names.claim(
            &name,
            format!("the class of variant `{}` of `{}`", v.tag_value, t.name),
        )?;
        Ok(name)
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

    /// One field, and whether it is always sent and whether `None` leaves it out.
    fn field(&mut self, f: &Field) -> (PyField, bool, bool) {
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
        let mut validate_default = false;
        let default = match (&f.default, f.required) {
            (Some(d), required) => {
                always_sent = required;
                validate_default = !self.plain_default(&f.ty, d);
                Some(py_literal(d))
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
                Some("None".into())
            }
        };
        let field = PyField {
            alias: (name != f.wire).then(|| f.wire.clone()),
            name,
            annotation,
            default,
            validate_default,
            doc,
        };
        (field, always_sent, omit_none)
    }

    fn class(
        &mut self,
        name: String,
        description: Option<&str>,
        tag: Option<(&str, &str)>,
        fields: &[Field],
        parent: Option<String>,
    ) -> Result<Class, CodegenError> {
        let mut py_fields = Vec::new();
        let mut always_sent = Vec::new();
        let mut omit_none = Vec::new();
        let mut attributes = Namespace::new(format!("fields of `{name}`"), Dialect::Python);
        if let Some((wire, value)) = tag {
            let field_name = member_name(&words(wire));
            self.uses.insert("Literal");
            py_fields.push(PyField {
                alias: (field_name != wire).then(|| wire.to_owned()),
                name: field_name.clone(),
                annotation: format!("Literal[{}]", py_str(value)),
                default: Some(py_str(value)),
                validate_default: false,
                doc: String::new(),
            });
            attributes.claim(&field_name, format!("tag `{wire}`"))?;
            always_sent.push(field_name);
        }
        for f in fields {
            let (pf, sent, omit) = self.field(f);
            attributes.claim(&pf.name, format!("field `{}`", f.wire))?;
            if sent {
                always_sent.push(pf.name.clone());
            }
            if omit {
                omit_none.push(pf.name.clone());
                if let Some(wire) = &pf.alias {
                    omit_none.push(wire.clone());
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
        Ok(Class {
            name,
            parent,
            doc: description.unwrap_or_default().to_owned(),
            always_sent,
            omit_none,
            fields: py_fields,
        })
    }

    /// Every class and alias of models.py, classes first (sorted, subclasses last), aliases in
    /// dependency order.
    pub(super) fn models(&mut self) -> Result<(Vec<Class>, Vec<Alias>), CodegenError> {
        let mut classes = Vec::new();
        let mut subclasses = Vec::new();
        let mut aliases: BTreeMap<String, Alias> = BTreeMap::new();
        // Every type is one class or alias, and some variants get a class of their own.
        let mut names = Namespace::new("names of models.py", Dialect::Python);
        let types: Vec<&TypeDef> = self.api.types.iter().collect();
        for t in types {
            let name = self.py_name(&t.name);
            names.claim(&name, format!("type `{}`", t.name))?;
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
                    let ty = format!(
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
                            ty,
                            mode: None,
                            members: Vec::new(),
                            recursive: false,
                            doc,
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
                                let cname = self.claim_variant_class(&mut names, t, v, "")?;
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
                                let cname = self.claim_variant_class(&mut names, t, v, "")?;
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
                                let cname =
                                    self.claim_variant_class(&mut names, t, v, "Variant")?;
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
                    let ty = members.join(" | ");
                    let mode = (members.len() > 1).then(|| {
                        self.uses.insert("Annotated");
                        UnionMode::Discriminator {
                            attribute: tag_attr,
                        }
                    });
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
                            ty,
                            mode,
                            members,
                            recursive: false,
                            doc,
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
                                let cname =
                                    self.claim_variant_class(&mut names, t, v, "Variant")?;
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
                                let cname =
                                    self.claim_variant_class(&mut names, t, v, "Variant")?;
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
                    let (ty, mode, members) = self.union(&members);
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
                            ty,
                            mode,
                            members,
                            recursive: false,
                            doc,
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
                    let (ty, mode, split) = self.union(&members);
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
                            ty,
                            mode,
                            members: split,
                            recursive: quote,
                            doc,
                        },
                    );
                }
                TypeKind::Alias { target } => {
                    let quote = self.recursive.contains(&t.name);
                    let ty = self.ty(target, quote);
                    self.uses.insert("TypeAlias");
                    aliases.insert(
                        t.name.clone(),
                        Alias {
                            name,
                            ty,
                            mode: None,
                            members: Vec::new(),
                            recursive: quote,
                            doc: t.description.clone().unwrap_or_default(),
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

        // Aliases in dependency order (recursive ones refer to each other by forward reference).
        let order = self.alias_order();
        let mut ordered = Vec::new();
        for name in order {
            if let Some(a) = aliases.remove(&name) {
                ordered.push(a);
            }
        }
        ordered.extend(aliases.into_values());
        Ok((classes, ordered))
    }

    /// A union of members (`A | B`, in left-to-right mode), or the one member; with the members
    /// a long line may be split into (none for a string forward reference, which is one string).
    fn union(&mut self, members: &[String]) -> (String, Option<UnionMode>, Vec<String>) {
        if members.len() == 1 {
            return (members[0].clone(), None, Vec::new());
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
        let split = if quoted { Vec::new() } else { members.to_vec() };
        (union, Some(UnionMode::LeftToRight), split)
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
