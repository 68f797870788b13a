//! The message catalogue of the human formats: one typed [`Text`] per language.
//!
//! A typed catalogue rather than a Fluent bundle: every message is a field of one struct, so a
//! language that misses a message does not compile, the catalogue costs no dependency and no
//! parsing at start-up, and parameters are named (`{model}`) and filled by [`fill`]. Machine
//! formats (CSV headers, JSON keys) never pass through here: they stay English and stable.
//!
//! The report's messages are typed fields of [`Text`]. Everything else people read (the
//! documents of `estimate`, `deploy`, `plan`, the TUI's labels, the errors) is translated from
//! its English by [`Lang::tr`] through the [`zh`] catalogue, keyed by the English itself, so the
//! core and the document builders know no language.

use std::borrow::Cow;

pub mod zh;

/// The language of the human formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese, with the article's terms (微调, 租用, 上传数据, 训练, 导出模型, 部署, 每月).
    Zh,
}

impl Lang {
    /// `--lang` when given (`en`, `zh`, `zh-CN`, ...), else the locale: `LC_ALL`, `LC_MESSAGES`,
    /// then `LANG` starting with `zh` means Chinese.
    pub fn detect(flag: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Option<Lang> {
        match flag {
            Some(f) => Self::parse(f),
            None => Some(
                ["LC_ALL", "LC_MESSAGES", "LANG"]
                    .iter()
                    .filter_map(|k| env(k).filter(|v| !v.is_empty()))
                    .next()
                    .and_then(|v| Self::parse(&v))
                    .unwrap_or_default(),
            ),
        }
    }

    /// `en`/`zh` with any region or encoding suffix; `None` for anything else.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") || s == "c" || s == "posix" {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// `text` in this language: English as it is; Chinese from the [`zh`] catalogue, or the
    /// English where the catalogue lacks it.
    pub fn tr(self, text: &str) -> Cow<'_, str> {
        match self {
            Lang::En => Cow::Borrowed(text),
            Lang::Zh => zh::translate(text).map_or(Cow::Borrowed(text), Cow::Owned),
        }
    }

    /// `text` for a narrow column of the TUI: Chinese from [`zh::SHORT`] where the usual
    /// Chinese is wider than the English the column was sized for, else as [`Lang::tr`].
    pub fn tr_short(self, text: &str) -> Cow<'_, str> {
        match self {
            Lang::En => Cow::Borrowed(text),
            Lang::Zh => match zh::SHORT.iter().find(|(en, _)| *en == text) {
                Some((_, zh)) => Cow::Borrowed(zh),
                None => self.tr(text),
            },
        }
    }

    /// The language's code for HTML's `lang` attribute.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// This language's messages.
    pub fn text(self) -> &'static Text {
        match self {
            Lang::En => &EN,
            Lang::Zh => &ZH,
        }
    }
}

/// Fill `{name}` placeholders of a message.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in args {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// Every message of the report in one language.
pub struct Text {
    pub note: &'static str,
    pub report_title: &'static str,
    pub finetune_title: &'static str,
    pub finetune_headers: [&'static str; 11],
    pub deploy_title: &'static str,
    pub deploy_headers: [&'static str; 11],
    pub recommended: &'static str,
    pub hours: &'static str,
    pub minutes: &'static str,
    pub micro_batch: &'static str,
    pub grad_accum: &'static str,
    pub checkpointing: &'static str,
    pub gpus: &'static str,
    pub chosen_payg: &'static str,
    pub spot: &'static str,
    pub ceil: &'static str,
    pub chart_cost_title: &'static str,
    pub chart_hours_axis: &'static str,
    pub chart_cost_axis: &'static str,
    pub chart_memory_title: &'static str,
    pub chart_memory_axis: &'static str,
    pub chart_serving_title: &'static str,
    pub chart_serving_axis: &'static str,
    pub charts_title: &'static str,
    pub ttft_target: &'static str,
    pub tpot_target: &'static str,
    pub bits_per_weight: &'static str,
    pub confidence: [&'static str; 3],
    pub chosen_subscription: &'static str,
    pub no_subscription: &'static str,
    pub gap_too_long: &'static str,
    pub gap_too_long_virtual: &'static str,
    pub gap_does_not_fit: &'static str,
    pub gap_fix: &'static str,
    pub gap_no_fix: &'static str,
    pub gap_no_offer: &'static str,
    pub gap_untimed: &'static str,
    pub gap_no_spot: &'static str,
    pub gap_serve_does_not_fit: &'static str,
    pub gap_serve_no_offer: &'static str,
    pub gap_serve_misses_targets: &'static str,
    pub gap_not_applicable: &'static str,
    pub encoder_note: &'static str,
    pub spot_caveat: &'static str,
    pub assumptions: [&'static str; 4],
    pub memory_unit_note: &'static str,
    pub derivation_title: &'static str,
    pub derivation_headers: [&'static str; 3],
    pub step_params: &'static str,
    pub step_flops_token: &'static str,
    pub step_tokens: &'static str,
    pub step_flops_job: &'static str,
    pub step_rate: &'static str,
    pub step_compute: &'static str,
    pub step_other: &'static str,
    pub step_train_hours: &'static str,
    pub step_billed: &'static str,
    pub step_money: &'static str,
    pub step_fx: &'static str,
    pub step_memory: [&'static str; 6],
    pub serve_derivation_title: &'static str,
    pub step_weights: &'static str,
    pub step_kv: &'static str,
    pub step_capacity: &'static str,
    pub step_instances: &'static str,
    pub step_month: &'static str,
    pub sources_title: &'static str,
    pub sources_headers: [&'static str; 4],
}

/// English.
pub static EN: Text = Text {
    note: "note: ",
    report_title: "peftcost report",
    finetune_title: "Fine-tuning cost ({providers}, {currency}): {samples} samples x {seq} tokens x {epochs} epochs, global batch {batch}, {dtype}; job = rent/setup + upload data + train + export",
    finetune_headers: [
        "model",
        "method",
        "GPU",
        "configuration",
        "train time",
        "rent/setup",
        "upload data",
        "train",
        "export",
        "total (on-demand)",
        "total (spot)",
    ],
    deploy_title: "Serving cost per month ({providers}, {currency}): {qps} requests/s, {input} input / {output} output tokens{targets}",
    deploy_headers: [
        "target",
        "model",
        "weights",
        "tokens/s (embeddings/s)",
        "requests/s per instance",
        "TTFT",
        "TPOT",
        "instances",
        "pay-as-you-go / month",
        "subscription / month",
        "chosen",
    ],
    recommended: "recommended",
    hours: "h",
    minutes: "min",
    micro_batch: "mb",
    grad_accum: "ga",
    checkpointing: "ckpt",
    gpus: "GPUs",
    chosen_payg: "pay-as-you-go",
    spot: "spot",
    ceil: "ceil",
    chart_cost_title: "Job cost vs training time (every offer; lines: the Pareto front per model)",
    chart_hours_axis: "training hours",
    chart_cost_axis: "job cost",
    chart_memory_title: "Memory per GPU against its capacity",
    chart_memory_axis: "GiB per device",
    chart_serving_title: "Monthly serving cost per target",
    chart_serving_axis: "per month",
    charts_title: "Charts",
    ttft_target: "; TTFT <= {value}",
    tpot_target: "; TPOT <= {value}",
    bits_per_weight: "{bits} bits/w",
    confidence: ["primary", "secondary", "estimate"],
    chosen_subscription: "subscription",
    no_subscription: "the price tables hold no subscription (monthly) price for {instance}: the month is pay-as-you-go x 730 h",
    gap_too_long: "{model} {method}: {tokens} tokens exceed the model's {max} positions",
    gap_too_long_virtual: "{model} {method}: {tokens} tokens ({virtual} virtual) exceed the model's {max} positions",
    gap_does_not_fit: "{model} {method} on {hw}: does not fit, needs {need} of {capacity}",
    gap_fix: "; fits with {fix}",
    gap_no_fix: "; no combination of levers fits it",
    gap_no_offer: "{providers} lists no {hw} instance",
    gap_untimed: "{hw} has no peak for the dtype in its profile: time unknown",
    gap_no_spot: "{providers} lists no spot price for {hw}",
    gap_serve_does_not_fit: "{model} on {hw}: does not fit at any precision",
    gap_serve_no_offer: "{providers} lists no {hw} instance for serving",
    gap_serve_misses_targets: "{model} on {hw}: misses the latency targets even at batch 1",
    gap_not_applicable: "{model} is an encoder: no generated tokens, so no TTFT or TPOT",
    encoder_note: "encoders (bge): throughput in embeddings/s of sequences of {input} tokens; cost per million embeddings in the JSON",
    spot_caveat: "spot: price as observed when the table was made; spot instances can be reclaimed at any time and the price moves with demand",
    assumptions: [
        "setup: {setup} h of billed instance time before training, plus the model and data download",
        "network: {gbps} Gbit/s to download the base model and data and to upload the export",
        "evaluation: {eval}% of training time",
        "object storage: data and export kept {months} month(s), export downloaded once",
    ],
    memory_unit_note: "memory in GiB (2^30 bytes) per device; a month of serving is 730 h",
    derivation_title: "How this was computed: {model} {method} on {hw} ({instance}, {billing})",
    derivation_headers: ["step", "formula", "value"],
    step_params: "trainable / total parameters",
    step_flops_token: "FLOPs per token (forward + backward + recompute)",
    step_tokens: "tokens = samples x epochs x tokens per sample",
    step_flops_job: "FLOPs of the job = FLOPs per token x tokens",
    step_rate: "sustained rate = peak x MFU",
    step_compute: "compute time = FLOPs / rate",
    step_other: "launch overhead, optimizer step, dequantisation, communication",
    step_train_hours: "training hours",
    step_billed: "billed hours = setup + train + evaluation + export, rounded to the billing increment",
    step_money: "job cost = rent/setup + upload data + train + export",
    step_fx: "exchange rate",
    step_memory: [
        "weights",
        "trainable state (weights + gradients + optimizer)",
        "activations",
        "logits and loss",
        "runtime and allocator overhead",
        "memory per device",
    ],
    serve_derivation_title: "How this was computed: serving {model} on {hw}",
    step_weights: "weights",
    step_kv: "KV cache per sequence of {context} tokens",
    step_capacity: "requests/s per instance = 1 / (TTFT + output tokens x TPOT / batch)",
    step_instances: "instances = ceil(requests/s / capacity)",
    step_month: "monthly = min(pay-as-you-go x 730 h, subscription)",
    sources_title: "Price sources",
    sources_headers: ["provider", "as of", "confidence", "source"],
};

/// Simplified Chinese, in the article's terms.
pub static ZH: Text = Text {
    note: "注：",
    report_title: "peftcost 成本报告",
    finetune_title: "微调成本（{providers}，{currency}）：{samples} 条样本 × 每条 {seq} 个 token × {epochs} 轮，全局批大小 {batch}，{dtype}；总成本 = 租用/环境准备 + 上传数据 + 训练 + 导出模型",
    finetune_headers: [
        "模型",
        "方法",
        "GPU",
        "配置",
        "训练时长",
        "租用/准备",
        "上传数据",
        "训练",
        "导出模型",
        "合计（按量付费）",
        "合计（抢占式）",
    ],
    deploy_title: "长期部署成本（每月，{providers}，{currency}）：每秒 {qps} 个请求，输入 {input} / 输出 {output} 个 token{targets}",
    deploy_headers: [
        "部署目标",
        "模型",
        "权重精度",
        "吞吐（token/秒；向量/秒）",
        "单实例容量（请求/秒）",
        "首 token 延迟",
        "每 token 延迟",
        "实例数",
        "按量付费/每月",
        "包年包月/每月",
        "采用",
    ],
    recommended: "推荐",
    hours: "小时",
    minutes: "分钟",
    micro_batch: "微批",
    grad_accum: "梯度累积",
    checkpointing: "梯度检查点",
    gpus: "卡",
    chosen_payg: "按量付费",
    spot: "抢占式",
    ceil: "向上取整",
    chart_cost_title: "微调总成本与训练时长（每个报价；折线为各模型的帕累托前沿）",
    chart_hours_axis: "训练时长（小时）",
    chart_cost_axis: "总成本",
    chart_memory_title: "各 GPU 显存占用与容量",
    chart_memory_axis: "每卡 GiB",
    chart_serving_title: "各部署目标的每月成本",
    chart_serving_axis: "每月",
    charts_title: "图表",
    ttft_target: "；首 token 延迟 ≤ {value}",
    tpot_target: "；每 token 延迟 ≤ {value}",
    bits_per_weight: "每权重 {bits} 位",
    confidence: ["一手", "二手", "估计"],
    chosen_subscription: "包年包月",
    no_subscription: "价格表中没有 {instance} 的包年包月价格：每月按按量付费 × 730 小时计",
    gap_too_long: "{model} {method}：{tokens} 个 token 超过模型的 {max} 个位置",
    gap_too_long_virtual: "{model} {method}：{tokens} 个 token（含 {virtual} 个虚拟 token）超过模型的 {max} 个位置",
    gap_does_not_fit: "{model} {method} 在 {hw} 上显存不足：需要 {need}，仅有 {capacity}",
    gap_fix: "；可改为 {fix}",
    gap_no_fix: "；任何组合都放不下",
    gap_no_offer: "{providers} 没有 {hw} 实例",
    gap_untimed: "{hw} 的配置中没有该精度的峰值算力：时长未知",
    gap_no_spot: "{providers} 没有 {hw} 的抢占式价格",
    gap_serve_does_not_fit: "{model} 在 {hw} 上任何精度都放不下",
    gap_serve_no_offer: "{providers} 没有可用于部署的 {hw} 实例",
    gap_serve_misses_targets: "{model} 在 {hw} 上即使批大小为 1 也达不到延迟目标",
    gap_not_applicable: "{model} 是编码器：不生成 token，没有首 token 延迟和每 token 延迟",
    encoder_note: "编码器（bge）：吞吐为每秒向量数（每条 {input} 个 token）；每百万向量的成本见 JSON",
    spot_caveat: "抢占式：价格为制表时的观测值；抢占式实例随时可能被回收，价格随供需变化",
    assumptions: [
        "环境准备：训练前计费 {setup} 小时，另加下载模型和数据的时间",
        "网络：{gbps} Gbit/s 下载基础模型和数据、上传导出的模型",
        "评估：训练时间的 {eval}%",
        "对象存储：数据和导出的模型保存 {months} 个月，导出的模型下载一次",
    ],
    memory_unit_note: "显存按每卡 GiB（2^30 字节）计；每月部署按 730 小时计",
    derivation_title: "计算过程：{model} {method}，{hw}（{instance}，{billing}）",
    derivation_headers: ["步骤", "公式", "数值"],
    step_params: "可训练参数 / 总参数",
    step_flops_token: "每 token FLOPs（前向 + 反向 + 重计算）",
    step_tokens: "token 数 = 样本数 × 轮数 × 每条 token 数",
    step_flops_job: "总 FLOPs = 每 token FLOPs × token 数",
    step_rate: "持续算力 = 峰值 × MFU",
    step_compute: "计算时间 = FLOPs / 持续算力",
    step_other: "内核启动开销、优化器更新、反量化、通信",
    step_train_hours: "训练时长",
    step_billed: "计费时长 = 准备 + 训练 + 评估 + 导出，按计费粒度取整",
    step_money: "总成本 = 租用/准备 + 上传数据 + 训练 + 导出模型",
    step_fx: "汇率",
    step_memory: [
        "权重",
        "可训练状态（权重 + 梯度 + 优化器）",
        "激活值",
        "logits 与损失",
        "运行时与分配器开销",
        "每卡显存",
    ],
    serve_derivation_title: "计算过程：在 {hw} 上部署 {model}",
    step_weights: "权重",
    step_kv: "每条 {context} 个 token 的 KV 缓存",
    step_capacity: "单实例容量 = 1 /（首 token 延迟 + 输出 token 数 × 每 token 延迟 / 批大小）",
    step_instances: "实例数 = 向上取整（请求率 / 单实例容量）",
    step_month: "每月 = 取较小值（按量付费 × 730 小时，包年包月）",
    sources_title: "价格来源",
    sources_headers: ["云平台", "日期", "可信度", "来源"],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locale_picks_chinese_and_the_flag_wins() {
        let env = |v: &'static str| move |k: &str| (k == "LANG").then(|| v.to_string());
        assert_eq!(Lang::detect(None, env("zh_CN.UTF-8")), Some(Lang::Zh));
        assert_eq!(Lang::detect(None, env("en_US.UTF-8")), Some(Lang::En));
        assert_eq!(Lang::detect(None, |_| None), Some(Lang::En));
        assert_eq!(Lang::detect(Some("en"), env("zh_CN.UTF-8")), Some(Lang::En));
        assert_eq!(Lang::detect(Some("zh-CN"), |_| None), Some(Lang::Zh));
        assert_eq!(Lang::detect(Some("fr"), |_| None), None);
        assert_eq!(
            fill("{a} and {b}", &[("a", "x"), ("b", "y")]),
            "x and y".to_string()
        );
    }
}
