//! `peftcost models list|show|import`.

use crate::report::i18n::Lang;
use std::path::PathBuf;

use clap::Subcommand;

use super::{emit, Context, Format};
use crate::core::arch::{import_hf_config, Inventory, ModelProfile, Shape};
use crate::core::data;
use crate::core::error::{Error, Result};
use crate::core::estimate::Scenario;
use crate::report::{self, fmt, Document, Table};

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Every known model profile.
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// One model: architecture, every Linear with its shape, totals, KV bytes per token.
    Show {
        id: String,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Convert a Hugging Face config.json into a profile TOML (printed, or written with --out).
    Import {
        config: PathBuf,
        /// Profile id (default: the --out file's stem, else the config's _name_or_path).
        #[arg(long)]
        id: Option<String>,
        /// Write the TOML here instead of stdout, creating its directory (atomically; an
        /// existing file is kept unless --force).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing --out file.
        #[arg(long)]
        force: bool,
    },
}

#[derive(serde::Serialize)]
struct ModelRow<'a> {
    id: &'a str,
    name: &'a str,
    family: &'a str,
    layers: u64,
    hidden: u64,
    heads: u64,
    kv_heads: u64,
    vocab: u64,
    total_params: u64,
    kv_bytes_per_token_fp16: u64,
    /// The file the profile came from (`<embedded>/...` or the user's).
    origin: &'a str,
}

fn row<'a>(p: &'a ModelProfile, origin: &'a str) -> Result<ModelRow<'a>> {
    Ok(ModelRow {
        id: &p.id,
        name: &p.name,
        family: p.family.as_str(),
        layers: p.num_layers,
        hidden: p.hidden_size,
        heads: p.num_heads,
        kv_heads: p.num_kv_heads,
        vocab: p.vocab_size,
        total_params: Scenario::base_params(p)?,
        kv_bytes_per_token_fp16: p.kv_bytes_per_token(2.0) as u64,
        origin,
    })
}

pub fn run(ctx: &Context, cmd: ModelsCommand) -> Result<()> {
    match cmd {
        ModelsCommand::List { format } => {
            let cat = ctx.models()?;
            let rows = cat
                .profiles()
                .iter()
                .map(|p| row(p, cat.origin(&p.id).unwrap_or("-")))
                .collect::<Result<Vec<_>>>()?;
            let text = match format {
                Format::Json => report::to_json(&rows)?,
                Format::Csv => report::to_csv(&rows)?,
                Format::Table | Format::Md | Format::Html => {
                    let mut t = Table::new(
                        "",
                        &[
                            "id",
                            "name",
                            "family",
                            "layers",
                            "hidden",
                            "heads/kv",
                            "vocab",
                            "params",
                            "KV/token (fp16)",
                            "from",
                        ],
                    )
                    .with_priority(&[
                        "id",
                        "params",
                        "from",
                        "family",
                        "layers",
                        "hidden",
                        "heads/kv",
                        "vocab",
                        "KV/token (fp16)",
                        "name",
                    ]);
                    for r in &rows {
                        t.push(vec![
                            r.id.into(),
                            r.name.into(),
                            r.family.into(),
                            r.layers.to_string(),
                            r.hidden.to_string(),
                            format!("{}/{}", r.heads, r.kv_heads),
                            r.vocab.to_string(),
                            fmt::count(r.total_params),
                            fmt::bytes(r.kv_bytes_per_token_fp16 as f64),
                            r.origin.into(),
                        ]);
                    }
                    let doc = Document {
                        title: "Known models".into(),
                        tables: vec![t],
                        notes: vec!["add your own with `peftcost models import config.json --out DIR/models/NAME.toml`".into()],
                        ..Default::default()
                    };
                    format.render(&doc, ctx.lang)
                }
            };
            emit(&text)
        }
        ModelsCommand::Show { id, format } => {
            let cat = ctx.models()?;
            let p = cat.get(&id)?;
            show(p, format, ctx.lang)
        }
        ModelsCommand::Import {
            config,
            id,
            out,
            force,
        } => {
            let f = data::read_file(&config)?;
            // The id a later `--model` names: --id, else the file it is written to.
            let id = id.or_else(|| {
                out.as_ref()
                    .and_then(|o| o.file_stem())
                    .map(|s| s.to_string_lossy().into_owned())
            });
            let p = import_hf_config(&f.path, &f.text, id.as_deref())?;
            let text = toml::to_string(&p).map_err(|e| Error::Internal(format!("TOML: {e}")))?;
            let text = format!(
                "# Imported by peftcost from {}; {} parameters.\n{text}",
                f.path,
                fmt::count(Scenario::base_params(&p)?)
            );
            match out {
                None => emit(&text),
                Some(path) => {
                    // symlink_metadata: a dangling symlink exists too, and is never written through.
                    if std::fs::symlink_metadata(&path).is_ok() && !force {
                        return Err(Error::input(format!(
                            "{}: already exists; add --force to replace it or choose another --out",
                            path.display()
                        )));
                    }
                    data::write_atomic(&path, text.as_bytes())?;
                    eprintln!("wrote {}", path.display());
                    Ok(())
                }
            }
        }
    }
}

#[derive(serde::Serialize)]
struct ModuleRow {
    name: String,
    role: String,
    kind: &'static str,
    shape: String,
    bias: bool,
    count: u64,
    params_each: u64,
}

fn show(p: &ModelProfile, format: Format, lang: Lang) -> Result<()> {
    let inv = Inventory::build(p, Scenario::default_task(p), 2)?;
    let mut modules = Vec::new();
    for (m, n, name) in inv
        .layer
        .iter()
        .map(|m| (m, m.count, format!("{}.N.{}", inv.layer_prefix, m.name)))
        .chain(inv.global.iter().map(|m| (m, 1, m.name.clone())))
    {
        let (kind, shape, bias) = match m.shape {
            Shape::Linear { inp, out, bias } => ("linear", format!("{inp} -> {out}"), bias),
            Shape::Embedding { num, dim } => ("embedding", format!("{num} x {dim}"), false),
            Shape::Experts {
                num,
                active,
                inp,
                out,
            } => (
                "experts",
                format!("{num} x ({inp} -> {out}), {active} per token"),
                false,
            ),
            Shape::Norm { dim, bias } => ("norm", format!("{dim}"), bias),
        };
        modules.push(ModuleRow {
            name,
            role: format!("{:?}", m.role).to_lowercase(),
            kind,
            shape,
            bias,
            count: n,
            params_each: m.params(),
        });
    }
    let total = inv.total_params();
    match format {
        Format::Json => {
            let v = serde_json::json!({
                "profile": p,
                "total_params": total,
                "kv_bytes_per_token_fp16": p.kv_bytes_per_token(2.0) as u64,
                "modules": modules,
            });
            emit(&report::to_json(&v)?)
        }
        Format::Csv => emit(&report::to_csv(&modules)?),
        Format::Table | Format::Md | Format::Html => {
            let mut arch = Table::new("Architecture", &["field", "value"]);
            let fields: Vec<(&str, String)> = vec![
                ("id", p.id.clone()),
                ("name", p.name.clone()),
                ("family (model_type)", p.family.as_str().into()),
                ("Hugging Face repo", p.hf_repo.clone()),
                (
                    "hidden / layers",
                    format!("{} / {}", p.hidden_size, p.num_layers),
                ),
                (
                    "heads / kv heads / head dim",
                    format!("{} / {} / {}", p.num_heads, p.num_kv_heads, p.head_dim),
                ),
                ("MLP width", p.intermediate_size.to_string()),
                (
                    "vocab / max positions",
                    format!("{} / {}", p.vocab_size, p.max_position),
                ),
                ("tied embeddings", p.tie_word_embeddings.to_string()),
                ("norm", format!("{:?}", p.norm).to_lowercase()),
                ("total parameters", fmt::count(total)),
                (
                    "published total",
                    p.published_total.map_or("-".into(), fmt::count),
                ),
                (
                    "KV cache per token (fp16)",
                    fmt::bytes(p.kv_bytes_per_token(2.0)),
                ),
                ("source", p.source.clone()),
            ];
            for (k, v) in fields {
                arch.push(vec![k.into(), v]);
            }
            for (k, v) in architecture_extras(p) {
                arch.push(vec![k.into(), v]);
            }
            let mut t = Table::new(
                "Modules",
                &["name", "role", "shape", "bias", "x", "params each"],
            );
            for m in &modules {
                t.push(vec![
                    m.name.clone(),
                    m.role.clone(),
                    m.shape.clone(),
                    if m.bias { "yes".into() } else { "no".into() },
                    m.count.to_string(),
                    fmt::count(m.params_each),
                ]);
            }
            let doc = Document {
                title: format!("Model {}", p.id),
                tables: vec![arch, t],
                notes: p.notes.iter().cloned().collect(),
                ..Default::default()
            };
            emit(&format.render(&doc, lang))
        }
    }
}

/// The rows only some architectures have: experts, latent attention, sliding windows, a
/// quantized checkpoint.
fn architecture_extras(p: &ModelProfile) -> Vec<(&'static str, String)> {
    let mut rows = Vec::new();
    if let Some(m) = p.moe {
        rows.push((
            "experts",
            format!(
                "{} routed of width {}, {} per token; shared width {}; {} dense blocks",
                m.num_experts,
                m.expert_intermediate_size,
                m.experts_per_token,
                m.shared_expert_intermediate_size,
                m.dense_layers
            ),
        ));
    }
    if let Some(a) = p.mla {
        rows.push((
            "latent attention",
            format!(
                "q latent {}, kv latent {}, head {} + {} rotary, value head {}",
                a.q_lora_rank, a.kv_lora_rank, a.qk_nope_head_dim, a.qk_rope_head_dim, a.v_head_dim
            ),
        ));
    }
    if p.sliding_layers > 0 {
        rows.push((
            "sliding window",
            format!(
                "{} tokens in {} of {} blocks",
                p.sliding_window, p.sliding_layers, p.num_layers
            ),
        ));
    }
    if let Some(q) = &p.quantization {
        rows.push((
            "checkpoint quantization",
            format!(
                "{} {}-bit, group {} ({:.3} bits per block weight)",
                q.method,
                q.bits,
                q.group_size,
                q.bits_per_weight()
            ),
        ));
    }
    rows
}
