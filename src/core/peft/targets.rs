//! Choosing modules the way peft does: by name suffix, by role alias, or `all-linear`.

use crate::core::arch::{Inventory, Module, Role};
use crate::core::error::{Error, Result};

/// A module of the inventory: one of the block modules (present in every layer) or a global one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleRef {
    /// Index into [`Inventory::layer`].
    Layer(usize),
    /// Index into [`Inventory::global`].
    Global(usize),
}

impl ModuleRef {
    /// The module this refers to.
    pub fn module(self, inv: &Inventory) -> &Module {
        match self {
            ModuleRef::Layer(i) => &inv.layer[i],
            ModuleRef::Global(i) => &inv.global[i],
        }
    }

    /// How many copies of the module the model has.
    pub fn count(self, inv: &Inventory) -> u64 {
        match self {
            ModuleRef::Layer(i) => inv.layer[i].count,
            ModuleRef::Global(_) => 1,
        }
    }
}

/// Role aliases a user may type instead of module names.
const ALIASES: &[&str] = &[
    "q", "k", "v", "o", "qkv", "gate", "up", "down", "attn", "mlp",
];

fn alias_selects(alias: &str, role: Role) -> bool {
    match alias {
        // On fused layouts q, k and v all select the fused projection (and gate/up the fused MLP).
        "q" => matches!(role, Role::Q | Role::Qkv),
        "k" => matches!(role, Role::K | Role::Qkv | Role::Kv),
        "v" => matches!(role, Role::V | Role::Qkv | Role::Kv),
        "qkv" => matches!(role, Role::Q | Role::K | Role::V | Role::Qkv | Role::Kv),
        "o" => role == Role::O,
        "gate" => matches!(role, Role::Gate | Role::GateUp),
        "up" => matches!(role, Role::Up | Role::GateUp),
        "down" => role == Role::Down,
        "attn" => role.is_attention(),
        "mlp" => role.is_mlp(),
        _ => false,
    }
}

/// What a list of targets may select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selectable {
    /// Linears, embeddings and fused experts (LoRA can wrap all three).
    LinearOrEmbedding,
    /// Any module with parameters (modules_to_save).
    Any,
}

/// The names a user may type as targets for this model: each Linear's own name (the last part
/// of its path, as peft matches it), then the role aliases and `all-linear`; no duplicates.
pub fn target_names(inv: &Inventory) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in inv.layer.iter().chain(inv.global.iter()) {
        let leaf = m.name.rsplit('.').next().unwrap_or(&m.name);
        if m.shape.is_linear() && m.role != Role::Head && !out.iter().any(|n| n == leaf) {
            out.push(leaf.to_string());
        }
    }
    out.extend(ALIASES.iter().map(|a| a.to_string()));
    out.push("all-linear".into());
    out
}

/// Resolve target names to modules, in inventory order, without duplicates.
///
/// `all-linear` selects every Linear in the blocks plus other Linears except the output head
/// (peft excludes `get_output_embeddings()` and, for SEQ_CLS, the classifier); for BertModel that
/// keeps `pooler.dense`, as peft does.
pub fn resolve(inv: &Inventory, targets: &[String], what: Selectable) -> Result<Vec<ModuleRef>> {
    let mut out: Vec<ModuleRef> = Vec::new();
    let push = |r: ModuleRef, out: &mut Vec<ModuleRef>| {
        if !out.contains(&r) {
            out.push(r);
        }
    };
    for raw in targets {
        let t = raw.trim();
        if t.is_empty() {
            continue;
        }
        let before = out.len();
        let mut matched = false;
        if t.eq_ignore_ascii_case("all-linear") {
            for (i, m) in inv.layer.iter().enumerate() {
                if m.shape.is_linear() {
                    push(ModuleRef::Layer(i), &mut out);
                }
            }
            for (i, m) in inv.global.iter().enumerate() {
                if m.shape.is_linear() && m.role != Role::Head {
                    push(ModuleRef::Global(i), &mut out);
                }
            }
            matched = true;
        } else {
            // A module's own name first (a MoE router is `mlp.gate`), as peft matches it; a
            // role alias only when no module has that name.
            for (i, m) in inv.layer.iter().enumerate() {
                if m.matches_suffix(t) {
                    push(ModuleRef::Layer(i), &mut out);
                    matched = true;
                }
            }
            for (i, m) in inv.global.iter().enumerate() {
                if m.matches_suffix(t) {
                    push(ModuleRef::Global(i), &mut out);
                    matched = true;
                }
            }
            if !matched && ALIASES.contains(&t) {
                for (i, m) in inv.layer.iter().enumerate() {
                    if alias_selects(t, m.role) {
                        push(ModuleRef::Layer(i), &mut out);
                        matched = true;
                    }
                }
                if !matched {
                    return Err(Error::input(format!(
                        "target '{t}': this model has no '{t}' projection; its modules are: {}",
                        inv.target_names().join(", ")
                    )));
                }
            }
        }
        if !matched {
            return Err(Error::input(format!(
                "target '{t}' matches no module of this model; its modules are: {} (or a role alias: {}, or all-linear)",
                inv.target_names().join(", "),
                ALIASES.join(",")
            )));
        }
        for r in &out[before..] {
            let m = r.module(inv);
            let ok = match what {
                // Fused experts too: peft reaches them through `target_parameters`.
                Selectable::LinearOrEmbedding => {
                    matches!(
                        m.shape,
                        crate::core::arch::Shape::Linear { .. }
                            | crate::core::arch::Shape::Embedding { .. }
                            | crate::core::arch::Shape::Experts { .. }
                    )
                }
                Selectable::Any => m.params() > 0 || m.tied,
            };
            if !ok {
                return Err(Error::input(format!(
                    "target '{t}' selects '{}', which cannot be targeted here (only Linear and Embedding modules can)",
                    m.name
                )));
            }
        }
    }
    if out.is_empty() {
        // An empty list (`--targets ""`, `default_targets = []`) would train nothing.
        return Err(Error::Invalid {
            field: "targets",
            value: format!("'{}'", targets.join(",")),
            expected: "at least one module name, role alias (q,k,v,o,...) or all-linear".into(),
        });
    }
    Ok(out)
}

/// Parse a comma-separated list.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// The `target_modules` to hand peft so that it selects exactly `selected`: for each module the
/// shortest dotted suffix of its name that matches no module outside the selection (BERT's
/// `attention.output.dense` cannot be `dense`, which would also hit `intermediate.dense`).
/// Names are deduplicated in inventory order.
pub fn peft_module_names(inv: &Inventory, selected: &[ModuleRef]) -> Vec<String> {
    let all: Vec<(ModuleRef, &Module)> = (0..inv.layer.len())
        .map(ModuleRef::Layer)
        .chain((0..inv.global.len()).map(ModuleRef::Global))
        .map(|r| (r, r.module(inv)))
        .collect();
    let mut names: Vec<String> = Vec::new();
    for r in selected {
        let name = &r.module(inv).name;
        let parts: Vec<&str> = name.split('.').collect();
        let suffix = (1..=parts.len())
            .map(|n| parts[parts.len() - n..].join("."))
            .find(|s| {
                all.iter()
                    .filter(|(_, m)| m.matches_suffix(s))
                    .all(|(other, _)| selected.contains(other))
            })
            .unwrap_or_else(|| name.clone());
        if !names.contains(&suffix) {
            names.push(suffix);
        }
    }
    names
}
