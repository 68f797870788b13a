//! The article's two tables as people read them (`peftcost report`): fine-tuning by stage on
//! each of the article's GPUs, monthly serving on T4 / A10 / A100-40G / a CPU box, a footnote for
//! every empty cell, and "how this was computed" for one line of each table. Every message comes
//! from the [`super::i18n`] catalogue; every number from the core.

use super::i18n::{fill, Lang, Text};
use super::tables::{FinetuneDerivation, FinetuneLine, FinetuneTable, Gap};
use super::{fmt, Document, Table};
use crate::core::deploy::{TableRow, TargetResult};
use crate::core::estimate::{Change, DeviceConfig, Workload};
use crate::core::pricing::{CostAssumptions, PricingCatalog};
use crate::core::spec::{ServeSpec, DEFAULT_SERVE_TARGETS};

/// What the document states besides the rows.
pub struct Context<'a> {
    pub lang: Lang,
    /// The providers the offers come from, as shown ("alibaba", or "all providers").
    pub providers: String,
    /// Display currency of every amount.
    pub currency: String,
    pub workload: &'a Workload,
    pub global_batch: u64,
    pub serve: &'a ServeSpec,
    pub pricing: &'a PricingCatalog,
    pub cost: CostAssumptions,
    /// The worked serving example: model id and its result on one target.
    pub serve_example: Option<(String, TargetResult)>,
}

/// Numbered footnotes; the same text gets the same number.
#[derive(Default)]
struct Footnotes(Vec<String>);

impl Footnotes {
    fn mark(&mut self, text: String) -> String {
        let n = match self.0.iter().position(|t| *t == text) {
            Some(i) => i + 1,
            None => {
                self.0.push(text);
                self.0.len()
            }
        };
        format!("-[{n}]")
    }
}

/// Hours in the language: "2.47 h" / "2.47 小时", minutes under one hour.
fn hours(t: &Text, h: f64) -> String {
    if h < 1.0 {
        format!("{:.1} {}", h * 60.0, t.minutes)
    } else {
        format!("{h:.2} {}", t.hours)
    }
}

fn money(x: f64) -> String {
    format!("{x:.2}")
}

/// The method as the article names it.
fn method_name(m: &str) -> &str {
    match m {
        "lora" => "LoRA",
        "qlora" => "QLoRA",
        "dora" => "DoRA",
        "adapter" => "Adapter",
        "prompt" => "Prompt Tuning",
        "prefix" => "Prefix Tuning",
        "ptuning" => "P-tuning v2",
        "ia3" => "IA3",
        "full" => "Full FT",
        other => other,
    }
}

/// "mb 2 x ga 2, ckpt" / "微批 2 × 梯度累积 2，梯度检查点".
fn config(t: &Text, lang: Lang, c: &DeviceConfig) -> String {
    let (x, sep) = match lang {
        Lang::En => (" x ", ", "),
        Lang::Zh => (" × ", "，"),
    };
    let mut s = format!(
        "{} {}{x}{} {}",
        t.micro_batch, c.micro_batch, t.grad_accum, c.grad_accum
    );
    if c.grad_checkpointing {
        s.push_str(sep);
        s.push_str(t.checkpointing);
    }
    if c.gpus > 1 {
        s.push_str(&format!("{sep}{} {}", c.gpus, t.gpus));
    }
    s
}

fn levers(lang: Lang, cs: &[Change]) -> String {
    match lang {
        Lang::En => fmt::changes(cs),
        Lang::Zh => cs
            .iter()
            .map(|c| match *c {
                Change::GradCheckpointing => "梯度检查点".to_string(),
                Change::MicroBatchOne => "微批 1".into(),
                Change::MicroBatch { micro_batch } => format!("微批 {micro_batch}"),
                Change::Qlora => "QLoRA".into(),
                Change::Zero3 { gpus } => format!("{gpus} 卡 ZeRO-3"),
                Change::Offload { .. } => "优化器卸载到主机内存".to_string(),
                Change::SyncEachBatch => "每个微批同步梯度".into(),
                Change::SeqLen { seq_len } => format!("序列长度 {seq_len}"),
            })
            .collect::<Vec<_>>()
            .join("，"),
    }
}

fn gap_text(t: &Text, lang: Lang, l: &FinetuneLine, g: &Gap, providers: &str) -> String {
    let method = method_name(&l.method);
    match g {
        Gap::TooLong {
            tokens,
            virtual_tokens,
            max,
        } => {
            let template = if *virtual_tokens > 0 {
                t.gap_too_long_virtual
            } else {
                t.gap_too_long
            };
            fill(
                template,
                &[
                    ("model", &l.model),
                    ("method", method),
                    ("tokens", &tokens.to_string()),
                    ("virtual", &virtual_tokens.to_string()),
                    ("max", &max.to_string()),
                ],
            )
        }
        Gap::DoesNotFit {
            need_bytes,
            capacity_bytes,
            fix,
        } => {
            let mut s = fill(
                t.gap_does_not_fit,
                &[
                    ("model", &l.model),
                    ("method", method),
                    ("hw", &l.hardware),
                    ("need", &fmt::gib(*need_bytes as f64)),
                    ("capacity", &fmt::gib(*capacity_bytes as f64)),
                ],
            );
            match fix {
                Some(f) => s.push_str(&fill(t.gap_fix, &[("fix", &levers(lang, &f.changes))])),
                None => s.push_str(t.gap_no_fix),
            }
            s
        }
        Gap::NoOffer => fill(
            t.gap_no_offer,
            &[("providers", providers), ("hw", &l.hardware)],
        ),
        Gap::Untimed => fill(t.gap_untimed, &[("hw", &l.hardware)]),
        Gap::NoSpot => fill(
            t.gap_no_spot,
            &[("providers", providers), ("hw", &l.hardware)],
        ),
    }
}

fn finetune_table(ft: &FinetuneTable, ctx: &Context, notes: &mut Footnotes) -> Table {
    let t = ctx.lang.text();
    let w = ctx.workload;
    let title = fill(
        t.finetune_title,
        &[
            ("providers", &ctx.providers),
            ("currency", &ctx.currency),
            ("samples", &w.samples.to_string()),
            ("seq", &w.seq_len.to_string()),
            ("epochs", &w.epochs.to_string()),
            ("batch", &ctx.global_batch.to_string()),
            ("dtype", w.dtype.as_str()),
        ],
    );
    let mut table = Table::new(title, &t.finetune_headers);
    for l in &ft.lines {
        let mut gpu = if l.hardware.is_empty() {
            "-".to_string()
        } else {
            l.hardware.clone()
        };
        if l.recommended {
            gpu.push_str(&format!(" ★ {}", t.recommended));
        }
        let mut cells = vec![l.model.clone(), method_name(&l.method).to_string(), gpu];
        // A gap other than a missing spot price empties the whole line; its footnote sits in
        // the configuration cell.
        let blocking = l.gaps.iter().find(|g| !matches!(g, Gap::NoSpot));
        match (blocking, l.on_demand_row.or(l.spot_row)) {
            (Some(_), _) | (None, None) => {
                let gap = blocking.cloned().unwrap_or(Gap::NoOffer);
                cells.push(notes.mark(gap_text(t, ctx.lang, l, &gap, &ctx.providers)));
                cells.extend(std::iter::repeat_n("-".to_string(), 7));
            }
            (None, Some(_)) => {
                cells.push(l.config.map_or("-".into(), |c| config(t, ctx.lang, &c)));
                let on_demand = l.on_demand_row.map(|i| &ft.rows[i]);
                let any = on_demand.or(l.spot_row.map(|i| &ft.rows[i]));
                cells.push(
                    any.and_then(|r| r.train_hours)
                        .map_or("-".into(), |h| hours(t, h)),
                );
                match on_demand {
                    Some(r) => {
                        cells.extend(r.stages_display().map(money));
                        cells.push(money(r.cost_display));
                    }
                    None => cells.extend(std::iter::repeat_n("-".to_string(), 5)),
                }
                cells.push(match l.spot_row {
                    Some(i) => money(ft.rows[i].cost_display),
                    None => notes.mark(gap_text(t, ctx.lang, l, &Gap::NoSpot, &ctx.providers)),
                });
            }
        }
        table.push(cells);
    }
    table
}

fn secs(x: Option<f64>) -> String {
    match x {
        Some(s) if s < 1.0 => format!("{:.1} ms", s * 1e3),
        Some(s) => format!("{s:.2} s"),
        None => "-".into(),
    }
}

fn deploy_table(rows: &[TableRow], ctx: &Context, notes: &mut Footnotes) -> Table {
    let t = ctx.lang.text();
    let s = ctx.serve;
    let mut targets = String::new();
    if let Some(x) = s.max_ttft {
        targets.push_str(&fill(t.ttft_target, &[("value", &secs(Some(x)))]));
    }
    if let Some(x) = s.max_tpot {
        targets.push_str(&fill(t.tpot_target, &[("value", &secs(Some(x)))]));
    }
    let title = fill(
        t.deploy_title,
        &[
            ("providers", &ctx.providers),
            ("currency", &ctx.currency),
            ("qps", &format!("{}", s.qps)),
            ("input", &s.input_tokens.to_string()),
            ("output", &s.output_tokens.to_string()),
            ("targets", &targets),
        ],
    );
    let mut table = Table::new(title, &t.deploy_headers);
    let mut sorted: Vec<&TableRow> = rows.iter().collect();
    sorted.sort_by_key(|r| {
        DEFAULT_SERVE_TARGETS
            .iter()
            .position(|x| *x == r.hardware)
            .unwrap_or(usize::MAX)
    });
    for r in sorted {
        let mut cells = vec![r.hardware.clone(), r.model.clone()];
        if !r.fits {
            cells.push(notes.mark(fill(
                t.gap_serve_does_not_fit,
                &[("model", &r.model), ("hw", &r.hardware)],
            )));
            cells.extend(std::iter::repeat_n("-".to_string(), 8));
            table.push(cells);
            continue;
        }
        let weights = match (ctx.lang, &r.weights_format, &r.precision) {
            (Lang::Zh, Some(f), _) if f.starts_with("GGUF") => f.clone(),
            (Lang::Zh, _, Some(p)) => format!(
                "{p}（{}）",
                fill(
                    t.bits_per_weight,
                    &[("bits", &format!("{:.2}", r.bits_per_weight.unwrap_or(0.0)))]
                )
            ),
            (_, Some(f), _) => f.clone(),
            _ => "-".into(),
        };
        cells.push(weights);
        cells.push(match (r.tokens_per_second, r.embeddings_per_second) {
            (Some(x), _) => format!("{x:.1}"),
            (None, Some(e)) => format!("({e:.1})"),
            _ => "-".into(),
        });
        cells.push(
            r.requests_per_second
                .map_or("-".into(), |x| format!("{x:.2}")),
        );
        if r.embeddings_per_second.is_some() && r.tokens_per_second.is_none() {
            let mark = notes.mark(fill(t.gap_not_applicable, &[("model", &r.model)]));
            cells.push(mark.clone());
            cells.push(mark);
        } else {
            cells.push(secs(r.ttft_seconds));
            cells.push(secs(r.tpot_seconds));
        }
        if r.monthly_cost.is_none() {
            cells.push(notes.mark(fill(
                t.gap_serve_no_offer,
                &[("providers", &ctx.providers), ("hw", &r.hardware)],
            )));
            cells.extend(std::iter::repeat_n("-".to_string(), 3));
            table.push(cells);
            continue;
        }
        cells.push(if r.meets_targets {
            r.instances.to_string()
        } else {
            notes.mark(fill(
                t.gap_serve_misses_targets,
                &[("model", &r.model), ("hw", &r.hardware)],
            ))
        });
        cells.push(r.pay_as_you_go_monthly.map_or("-".into(), money));
        cells.push(match r.subscription_monthly {
            Some(m) => money(m),
            None => notes.mark(fill(
                t.no_subscription,
                &[("instance", r.instance.as_deref().unwrap_or("-"))],
            )),
        });
        cells.push(match r.billing.as_deref() {
            Some("monthly") => t.chosen_subscription.into(),
            Some(_) => t.chosen_payg.into(),
            None => "-".into(),
        });
        table.push(cells);
    }
    table
}

fn finetune_derivation(d: &FinetuneDerivation, ctx: &Context) -> Table {
    let t = ctx.lang.text();
    let r = &d.row;
    let billing = if r.billing == "spot" {
        t.spot
    } else {
        t.chosen_payg
    };
    let mut table = Table::new(
        fill(
            t.derivation_title,
            &[
                ("model", &r.model),
                ("method", method_name(&r.method)),
                ("hw", &r.hardware),
                ("instance", &r.instance),
                ("billing", billing),
            ],
        ),
        &t.derivation_headers,
    );
    let row = |a: &str, b: String, c: String| vec![a.to_string(), b, c];
    let w = ctx.workload;
    let (rate, compute_h) = (d.rate, d.compute_hours);
    let hb = &d.hours_breakdown;
    let [setup, data, train, export] = r.stages_display();
    let cur = &r.display_currency;
    table.push(row(
        t.step_params,
        "peft".into(),
        format!(
            "{} / {}",
            fmt::count(d.trainable_params),
            fmt::count(d.total_params)
        ),
    ));
    table.push(row(
        t.step_flops_token,
        String::new(),
        format!("{:.3e}", d.flops_per_token),
    ));
    table.push(row(
        t.step_tokens,
        format!("{} x {} x {}", w.samples, w.epochs, w.seq_len),
        format!("{:.3e}", d.tokens),
    ));
    table.push(row(
        t.step_flops_job,
        format!("{:.3e} x {:.3e}", d.flops_per_token, d.tokens),
        format!("{:.3e}", d.flops_job),
    ));
    table.push(row(
        t.step_rate,
        format!(
            "{:.1} TFLOPS ({}) x {:.2}",
            d.peak_flops / 1e12,
            d.dtype,
            d.mfu
        ),
        format!("{:.1} TFLOPS", rate / 1e12),
    ));
    table.push(row(
        t.step_compute,
        format!("{:.3e} / {:.3e}", d.flops_job, rate),
        hours(t, compute_h),
    ));
    table.push(row(
        t.step_other,
        format!("{:.2} - {:.2}", d.device_hours, compute_h),
        hours(t, (d.device_hours - compute_h).max(0.0)),
    ));
    table.push(row(
        t.step_train_hours,
        String::new(),
        hours(t, d.device_hours),
    ));
    table.push(row(
        t.step_billed,
        format!(
            "{:.2} + {:.2} + {:.2} + {:.2}",
            hb.setup, hb.train, hb.eval, hb.export
        ),
        hours(t, r.billed_hours),
    ));
    table.push(row(
        t.step_money,
        format!(
            "{} {cur}/{}: {:.2} + {:.2} + {:.2} + {:.2}",
            money(r.price_per_hour * r.cost_display / r.job_cost.max(f64::MIN_POSITIVE)),
            t.hours,
            setup,
            data,
            train,
            export
        ),
        format!("{} {cur}", money(r.cost_display)),
    ));
    let fx = &ctx.pricing.fx;
    if let Some(cny) = fx.rate("CNY") {
        table.push(row(
            t.step_fx,
            format!("{} {}", fx.as_of, fx.source),
            format!("1 USD = {cny} CNY"),
        ));
    }
    let m = &d.memory;
    for (label, bytes) in t.step_memory.iter().zip([
        m.weights,
        m.trainable_state,
        m.activations,
        m.logits,
        m.overhead,
        m.total,
    ]) {
        table.push(row(label, String::new(), fmt::gib(bytes as f64)));
    }
    table
}

fn serve_derivation(model: &str, r: &TargetResult, ctx: &Context) -> Table {
    let t = ctx.lang.text();
    let mut table = Table::new(
        fill(
            t.serve_derivation_title,
            &[("model", model), ("hw", &r.hardware)],
        ),
        &t.derivation_headers,
    );
    let row = |a: String, b: String, c: String| vec![a, b, c];
    let s = ctx.serve;
    table.push(row(
        t.step_weights.into(),
        format!(
            "{} ({})",
            r.precision.as_str(),
            fill(
                t.bits_per_weight,
                &[("bits", &format!("{:.2}", r.bits_per_weight))]
            )
        ),
        fmt::gib(r.weights_bytes),
    ));
    let context = s.context.unwrap_or(s.input_tokens + s.output_tokens);
    table.push(row(
        fill(t.step_kv, &[("context", &context.to_string())]),
        format!("{} x {context}", fmt::bytes(r.kv_bytes_per_token)),
        fmt::bytes(r.kv_bytes_per_sequence),
    ));
    if let (Some(rps), Some(ttft)) = (r.requests_per_second, r.ttft_seconds) {
        let out = s.output_tokens;
        table.push(row(
            t.step_capacity.into(),
            format!(
                "1 / ({} + {out} x {} / {})",
                secs(Some(ttft)),
                secs(r.tpot_seconds),
                r.batch
            ),
            format!("{rps:.2}"),
        ));
        table.push(row(
            t.step_instances.into(),
            format!("{}({} / {rps:.2})", t.ceil, s.qps),
            r.instances.to_string(),
        ));
    }
    if let Some(o) = &r.offer {
        table.push(row(
            t.step_month.into(),
            format!(
                "{} x {:.2} x 730 = {:.2}; {}",
                o.machines,
                o.pay_as_you_go_monthly / (o.machines.max(1) as f64 * 730.0),
                o.pay_as_you_go_monthly,
                o.subscription_monthly.map_or("-".into(), money)
            ),
            format!("{} {}", money(o.monthly_cost), o.currency),
        ));
    }
    table
}

/// The whole report document.
pub fn document(ft: &FinetuneTable, deploy: &[TableRow], ctx: &Context) -> Document {
    let t = ctx.lang.text();
    let mut marks = Footnotes::default();
    let mut tables = Vec::new();
    if !ft.lines.is_empty() {
        tables.push(finetune_table(ft, ctx, &mut marks));
    }
    if !deploy.is_empty() {
        tables.push(deploy_table(deploy, ctx, &mut marks));
    }
    if let Some(d) = &ft.derivation {
        tables.push(finetune_derivation(d, ctx));
    }
    if let Some((model, r)) = &ctx.serve_example {
        tables.push(serve_derivation(model, r, ctx));
    }
    let used: std::collections::BTreeSet<&str> = ft
        .rows
        .iter()
        .map(|r| r.provider.as_str())
        .chain(deploy.iter().filter_map(|r| r.provider.as_deref()))
        .collect();
    let mut sources = Table::new(t.sources_title, &t.sources_headers);
    for table in ctx
        .pricing
        .tables
        .iter()
        .filter(|x| used.contains(x.provider.as_str()))
    {
        let confidence = crate::core::pricing::table::CONFIDENCE_LEVELS
            .iter()
            .position(|c| *c == table.confidence)
            .map_or(table.confidence.as_str(), |i| t.confidence[i]);
        sources.push(vec![
            table.provider.clone(),
            table.as_of.clone(),
            confidence.to_string(),
            table.source.clone(),
        ]);
    }
    if !sources.rows.is_empty() {
        tables.push(sources);
    }

    let mut notes: Vec<String> = marks
        .0
        .iter()
        .enumerate()
        .map(|(i, n)| format!("[{}] {n}", i + 1))
        .collect();
    notes.push(t.memory_unit_note.into());
    if ft.rows.iter().any(|r| r.billing == "spot") {
        notes.push(t.spot_caveat.into());
    }
    if deploy.iter().any(|r| r.embeddings_per_second.is_some()) {
        notes.push(fill(
            t.encoder_note,
            &[("input", &ctx.serve.input_tokens.to_string())],
        ));
    }
    let c = &ctx.cost;
    let values = [
        ("setup", format!("{}", c.setup_hours)),
        ("gbps", format!("{}", c.download_gbps)),
        ("eval", format!("{}", c.eval_fraction * 100.0)),
        ("months", format!("{}", c.storage_months)),
    ];
    for (template, (k, v)) in t.assumptions.iter().zip(values.iter()) {
        notes.push(fill(template, &[(k, v)]));
    }
    Document {
        title: t.report_title.into(),
        tables,
        notes,
        note_prefix: t.note,
    }
}
