//! The Chinese of every English message the human formats of `estimate`, `deploy`, `plan`, the
//! TUI and the errors print, keyed by the English itself (gettext's model: the English text is
//! the message id, so the core and the document builders stay free of any language).
//!
//! A message is found as a whole phrase ([`PHRASES`]) or as a template ([`TEMPLATES`]): the
//! English with `{}` holes for the data it carries, the Chinese with `{0}`, `{1}`, ... for the
//! same holes in any order. What a hole holds is translated in turn, so a note that quotes
//! another message comes out whole. A text with none of them stays as it is: ids, numbers,
//! model and instance names.
//!
//! Warts: a message whose English changes falls back to English until its entry here is
//! updated (the scans in `tests/it/i18n.rs` catch that for the outputs they run); third-party
//! texts quoted in an error (a TOML or JSON parser's message, an HTTP status line) stay as
//! their library wrote them.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Whole messages and the labels of tables.
pub static PHRASES: &[(&str, &str)] = &[
    // Document and table titles.
    ("Parameters", "参数"),
    ("Workload (every assumption)", "训练设置（全部假设）"),
    ("Devices: memory per device in GiB (2^30 bytes)", "各设备：每卡显存（GiB，2^30 字节）"),
    (
        "Offers whose hardware fits, cheapest job first: job = setup + data + train + export",
        "放得下的报价，总成本从低到高：总成本 = 租用/准备 + 上传数据 + 训练 + 导出模型",
    ),
    ("Request", "部署需求"),
    ("Memory per instance (GiB = 2^30 bytes)", "每实例显存（GiB = 2^30 字节）"),
    ("Best plans", "最佳方案"),
    ("Pareto front: cost vs time (cheapest first)", "帕累托前沿：成本与时长（最便宜在前）"),
    ("Scenarios side by side (changes relative to the first)", "方案对比（相对第一个方案的变化）"),
    ("peftcost estimate --compare", "peftcost 微调估算 --compare"),
    ("peftcost deploy --all-models", "peftcost 部署估算 --all-models"),
    // Column headers and row labels.
    ("quantity", "项目"),
    ("value", "数值"),
    ("setting", "设置"),
    ("model", "模型"),
    ("method", "方法"),
    ("total (base model)", "总参数（基础模型）"),
    ("active per token (routed experts)", "每 token 激活参数（路由专家）"),
    ("trainable", "可训练参数"),
    ("all (peft 'all params')", "全部参数（peft 的 all params）"),
    ("trainable %", "可训练占比 %"),
    ("adapter file (fp16 / fp32)", "适配器文件（fp16 / fp32）"),
    ("merged model (bf16)", "合并后模型（bf16）"),
    ("n/a (cannot be merged)", "不适用（无法合并）"),
    ("exported artifact", "导出文件"),
    ("samples x epochs", "样本数 × 轮数"),
    ("tokens per sample", "每条样本 token 数"),
    ("sample lengths", "样本长度"),
    (
        "the config packs samples: give --avg-tokens N or --lengths FILE, or every sample is costed at the full length and packing changes nothing",
        "配置打包了样本：请给出 --avg-tokens N 或 --lengths FILE，否则每条样本按完整长度计费，打包不改变结果",
    ),
    ("global batch (sequences per step)", "全局批大小（每步序列数）"),
    ("micro-batch x grad-accum x gpus", "微批 × 梯度累积 × GPU 数"),
    ("optimizer steps", "优化器步数"),
    ("dtype / weights", "计算精度 / 权重精度"),
    ("optimizer", "优化器"),
    ("gradient checkpointing", "梯度检查点"),
    ("only where needed", "仅在需要时"),
    ("attention", "注意力实现"),
    ("ZeRO stage", "ZeRO 阶段"),
    ("launcher", "并行方式"),
    ("one device", "单卡"),
    ("offload to host RAM", "卸载到主机内存"),
    ("offload optimizer", "优化器卸载到主机"),
    ("sync each batch", "每个微批同步梯度"),
    ("offload params", "参数与优化器卸载到主机"),
    ("FLOPs per token", "每 token FLOPs"),
    ("FLOPs of the job", "任务总 FLOPs"),
    ("runtime overhead / allocator slack", "运行时开销 / 分配器余量"),
    ("expert parallelism", "专家并行"),
    (
        "experts sharded across the gpus (EP = gpus), all-to-all per sparse block",
        "专家分布在各 GPU 上（EP = GPU 数），每个稀疏块一次 all-to-all",
    ),
    ("hardware", "硬件"),
    ("fits", "放得下"),
    ("configuration", "配置"),
    ("total", "合计"),
    ("weights", "权重"),
    ("state", "训练状态"),
    ("activ.", "激活值"),
    ("logits", "logits"),
    ("overhead", "开销"),
    ("capacity", "容量"),
    ("max mb", "最大微批"),
    ("step s", "每步秒数"),
    ("tok/s", "token/秒"),
    ("hours", "时长"),
    ("peak", "峰值阶段"),
    ("forward", "前向"),
    ("backward", "反向"),
    ("provider", "云平台"),
    ("instance", "实例"),
    ("hw", "硬件"),
    ("GPUs", "GPU 数"),
    ("billing", "计费方式"),
    ("price/h", "每小时价格"),
    ("billed h", "计费小时"),
    ("setup/data/train/export", "准备/数据/训练/导出"),
    ("job cost", "总成本"),
    ("on-demand", "按量付费"),
    ("spot", "抢占式"),
    ("monthly", "每月"),
    ("on", "开启"),
    ("does not fit", "放不下"),
    ("pricing n/a", "无价格"),
    ("nothing in the search fits", "搜索范围内都放不下"),
    ("fits on no device; what would make it fit:", "所有设备都放不下；可以这样改："),
    ("no offer matches: the hardware does not fit, or the filters exclude every offer", "没有匹配的报价：硬件放不下，或筛选条件排除了所有报价"),
    ("yes", "是"),
    ("NO", "否"),
    ("yes *", "是 *"),
    ("true", "是"),
    ("false", "否"),
    ("ckpt", "梯度检查点"),
    ("needs qlora", "需改用 QLoRA"),
    ("precision", "精度"),
    ("traffic", "流量"),
    ("input / output tokens", "输入 / 输出 token 数"),
    ("tokens per sequence", "每条序列 token 数"),
    ("context reserved per sequence", "每条序列预留上下文"),
    ("TTFT / TPOT targets", "首 token 延迟 / 每 token 延迟目标"),
    ("LoRA adapters on one base", "同一基座上的 LoRA 适配器数"),
    ("instances", "实例数"),
    ("batch", "批大小"),
    ("tokens/s", "token/秒"),
    ("tokens/s (embeddings/s)", "token/秒（向量/秒）"),
    ("embeddings/s", "向量/秒"),
    ("req/s", "请求/秒"),
    ("TTFT", "首 token 延迟"),
    ("TPOT", "每 token 延迟"),
    ("per M tokens", "每百万 token"),
    ("per M embeddings", "每百万向量"),
    ("util", "利用率"),
    ("offer", "报价"),
    ("usable", "可用"),
    ("adapters", "适配器"),
    ("KV / token", "KV / token"),
    ("KV / sequence", "KV / 序列"),
    ("max sequences", "最大并发序列"),
    ("decode tokens/s at batch", "该批大小下解码 token/秒"),
    ("misses TTFT", "首 token 延迟超标"),
    ("misses TPOT", "每 token 延迟超标"),
    ("instances shared / merged", "实例数（共享 / 合并）"),
    ("memory shared / merged", "显存（共享 / 合并）"),
    ("monthly shared", "每月（共享）"),
    ("monthly merged", "每月（合并）"),
    ("saving", "节省"),
    ("unit", "单位"),
    ("output tokens/s", "输出 token/秒"),
    ("sequences/s", "序列/秒"),
    ("fits at", "可放下的精度"),
    ("cheapest offer", "最便宜报价"),
    ("micro-batch x accum", "微批 × 梯度累积"),
    ("wall time", "耗时"),
    ("memory/device", "每卡显存"),
    ("pareto", "帕累托"),
    ("plan", "方案"),
    ("cheapest", "最便宜"),
    ("fastest", "最快"),
    ("shown", "显示"),
    ("trainable params", "可训练参数"),
    ("cheapest job USD", "最低总成本 USD"),
    ("cheapest job CNY", "最低总成本 CNY"),
    ("off", "关闭"),
    ("total params", "总参数"),
    ("all params", "全部参数"),
    ("setup", "准备"),
    ("base", "基础"),
    ("targets", "目标"),
    ("error", "错误"),
    ("output tokens", "输出 token"),
    ("embeddings", "向量"),
    // Notes.
    ("QLoRA not considered: add --allow-quantization", "未考虑 QLoRA：加 --allow-quantization"),
    ("QLoRA default targets: all-linear (as in the QLoRA paper)", "QLoRA 默认目标模块：all-linear（同 QLoRA 论文）"),
    (
        "CPU targets: llama.cpp-style GGUF weights (F16 / Q8_0 / Q4_K_M), bandwidth-bound decode",
        "CPU 部署：llama.cpp 式 GGUF 权重（F16 / Q8_0 / Q4_K_M），解码受内存带宽限制",
    ),
    (
        "TTFT is prefill of one request; TPOT is the decode step at the chosen batch (full load)",
        "首 token 延迟为单个请求的预填充时间；每 token 延迟为所选批大小下（满载）的一步解码",
    ),
    (
        "GPU int8/int4: embeddings, LM head and norms stay 16-bit (as GPTQ/AWQ checkpoints)",
        "GPU int8/int4：词嵌入、LM head 与归一化层保持 16 位（同 GPTQ/AWQ 检查点）",
    ),
    (
        "encoder: throughput is embeddings (sequences of --input-tokens) per second; cost per million embeddings",
        "编码器：吞吐为每秒向量数（每条 --input-tokens 个 token）；成本按每百万向量计",
    ),
    (
        "CPU: llama.cpp-style Q4_K_M, every tensor quantized (the --int4-format is a GPU choice)",
        "CPU：llama.cpp 式 Q4_K_M，所有张量量化（--int4-format 只用于 GPU）",
    ),
    ("misses --max-ttft (prefill alone is slower)", "达不到 --max-ttft（仅预填充就更慢）"),
    ("misses --max-tpot even at batch 1", "批大小为 1 时也达不到 --max-tpot"),
    (
        "prefill: 2·N·input tokens / (peak x 0.6); encoders: FLOPs per sequence / (peak x 0.35)",
        "预填充：2·N·输入 token 数 /（峰值 × 0.6）；编码器：每条序列 FLOPs /（峰值 × 0.35）",
    ),
    (
        "decode: bytes read per step / (bandwidth x hardware decode_bandwidth_efficiency x kernel factor: int8 0.75, int4 0.6), or 2·N·batch / (peak x 0.6) if larger",
        "解码：每步读取字节数 /（带宽 × 硬件 decode_bandwidth_efficiency × 内核系数：int8 0.75，int4 0.6），若 2·N·批大小 /（峰值 × 0.6）更大则取之",
    ),
    (
        "batch <= 256 sequences; KV cache 2 bytes per value; 730 h per month; queueing delay not modelled",
        "批大小 ≤ 256 条序列；KV 缓存每个值 2 字节；每月 730 小时；未建模排队延迟",
    ),
    (
        "spot price as observed when the table was made; spot instances can be reclaimed at any time (work since the last checkpoint is lost and the job restarts) and the price moves with demand",
        "抢占式价格为制表时的观测值；抢占式实例随时可能被回收（上次检查点之后的进度丢失，任务重启），价格随供需变化",
    ),
    (
        "regions, sources and as_of dates of every offer: --format json|csv, or `peftcost pricing show PROVIDER`",
        "每个报价的地域、来源和日期：--format json|csv，或 `peftcost pricing show PROVIDER`",
    ),
    (
        "a change is shown as (+x%) against the first scenario; * marks a changed text value",
        "变化以相对第一个方案的 (+x%) 表示；* 表示文本值有变化",
    ),
    (
        "adapters: default LoRA of the model (rank 8, fp16) each; unmerged LoRA adds 10% per-token compute; merged models each take their own instances",
        "适配器：每个为该模型的默认 LoRA（秩 8，fp16）；未合并的 LoRA 每 token 计算量增加 10%；合并后的模型各自占用实例",
    ),
    (
        "ChatGLM3 P-tuning v2 uses the model's own PrefixEncoder (pre_seq_len), as THUDM's finetune_demo does; peft's PrefixTuning would build 4096-wide prefixes",
        "ChatGLM3 的 P-tuning v2 使用模型自带的 PrefixEncoder（pre_seq_len），同 THUDM 的 finetune_demo；peft 的 PrefixTuning 会构建 4096 维的前缀",
    ),
    (
        "SEQ_CLS: the classifier is in modules_to_save (trainable once, counted twice in all params, as current peft does)",
        "SEQ_CLS：分类头在 modules_to_save 中（训练一份，在全部参数中计两次，同当前 peft）",
    ),
    ("int4: block Linears quantized; embeddings, LM head and norms stay 16-bit", "int4：块内 Linear 量化；词嵌入、LM head 与归一化层保持 16 位"),
    ("bf16 (fp16 where no bf16)", "bf16（无 bf16 时用 fp16）"),
    ("a positive amount", "正数金额"),
    ("a positive number of hours", "正的小时数"),
    ("greater than 0", "大于 0"),
    ("a positive bandwidth in Gbit/s", "正的带宽（Gbit/s）"),
    ("a ZeRO stage: 0, 1, 2 or 3", "ZeRO 阶段：0、1、2 或 3"),
    ("at least one request a year (3.2e-8 requests/s)", "每年至少一个请求（3.2e-8 请求/秒）"),
    ("a mixture-of-experts model (this one has no experts to shard)", "混合专家模型（该模型没有可切分的专家）"),
    ("at least one module name, role alias (q,k,v,o,...) or all-linear", "至少一个模块名、角色别名（q,k,v,o,...）或 all-linear"),
    ("bf16, fp16 or fp32 for full fine-tuning, which cannot train quantized weights (or use qlora)", "全参数微调需 bf16、fp16 或 fp32，无法训练量化权重（或改用 qlora）"),
    ("at least 1 for a sequence-classification head", "序列分类头至少为 1"),
    ("No such file or directory (os error 2)", "文件或目录不存在（os error 2）"),
    ("Permission denied (os error 13)", "权限不足（os error 13）"),
    ("Is a directory (os error 21)", "是一个目录（os error 21）"),
    ("EOF while parsing an object", "解析对象时文件意外结束"),
    ("EOF while parsing a string", "解析字符串时文件意外结束"),
    ("EOF while parsing a list", "解析列表时文件意外结束"),
    ("EOF while parsing a value", "解析值时文件意外结束"),
    ("expected value", "此处应为一个值"),
    ("trailing comma", "多余的逗号"),
    ("key with no value, expected `=`", "键没有值，应为 `=`"),
    ("invalid string\nexpected `\"`, `'`", "无效的字符串"),
    ("Qwen's finetune.py (lora_target_modules)", "Qwen 的 finetune.py（lora_target_modules）"),
    ("OpenBMB's finetune/finetune.py", "OpenBMB 的 finetune/finetune.py"),
    // The TUI. Labels of narrow fixed-width places are at most 9 cells (a glyph is 2 cells);
    // the same English as the CLI's keeps the CLI's Chinese (provider, billing, weights, ...).
    ("Inputs", "输入"),
    ("Results", "结果"),
    ("Keys", "按键"),
    ("Memory", "显存"),
    ("Cost", "成本"),
    ("Deploy", "部署"),
    ("Compare", "对比"),
    ("Plan", "方案"),
    ("rank", "秩"),
    ("adapter style", "适配器"),
    ("virtual tokens", "虚拟token"),
    ("samples", "样本数"),
    ("seq len", "序列长度"),
    ("epochs", "轮数"),
    ("auto-fit", "自动适配"),
    ("micro-batch", "微批"),
    ("grad-accum", "梯度累积"),
    ("dtype", "计算精度"),
    ("checkpointing", "检查点"),
    ("gpus", "GPU 数"),
    ("offload", "卸载"),
    // The launcher and offload inputs' values.
    ("ddp", "DDP"),
    ("fsdp", "FSDP"),
    ("zero1", "ZeRO-1"),
    ("zero2", "ZeRO-2"),
    ("zero3", "ZeRO-3"),
    ("params", "参数与优化器"),
    ("serve dtype", "部署精度"),
    ("serve req/s", "每秒请求"),
    ("serve in tok", "输入token"),
    ("serve out tok", "输出token"),
    ("deadline h", "期限小时"),
    ("budget", "预算"),
    ("allow QLoRA", "允许QLoRA"),
    ("max gpus", "GPU 上限"),
    ("default", "默认"),
    ("all", "全部"),
    ("auto", "自动"),
    ("on-demand+spot", "按量+抢占式"),
    ("as shipped", "原始精度"),
    ("none", "无"),
    ("allowed", "允许"),
    ("weigh", "权重"),
    ("activ", "激活值"),
    ("logit", "logits"),
    ("overh", "开销"),
    ("activations", "激活值"),
    ("cap.", "容量"),
    ("no fix", "无解"),
    ("→ckpt", "→检查点"),
    ("peftcost tui: terminal too small", "peftcost tui：终端太小"),
    ("enlarge the window, or press q to quit", "请放大窗口，或按 q 退出"),
    ("These inputs cannot be estimated:", "这些输入无法估算："),
    ("These serving inputs cannot be estimated:", "这些部署输入无法估算："),
    ("The planner cannot run on these inputs:", "这些输入无法规划方案："),
    ("any key closes this help", "按任意键关闭帮助"),
    ("move", "移动"),
    ("change", "修改"),
    ("edit", "编辑"),
    ("search", "搜索"),
    ("panel", "面板"),
    ("tabs", "标签页"),
    ("pin", "固定"),
    ("export", "导出"),
    ("help", "帮助"),
    ("quit", "退出"),
    ("Space", "空格"),
    ("move between inputs (or scroll results)", "在输入之间移动（或滚动结果）"),
    ("change the input (results panel: switch tab)", "修改输入（结果面板：切换标签页）"),
    ("toggle / next value", "切换 / 下一个值"),
    ("edit a number or the targets (Tab completes); pick", "编辑数值或目标模块（Tab 补全）；选择"),
    ("search the focused model/provider/currency", "搜索当前的模型/云平台/货币"),
    ("hardware shown: Space ticks, Enter applies", "显示的硬件：空格勾选，Enter 应用"),
    ("switch panel (inputs <-> results)", "切换面板（输入 <-> 结果）"),
    ("tab Memory / Cost / Deploy / Compare / Plan", "标签页 显存 / 成本 / 部署 / 对比 / 方案"),
    ("previous / next tab", "上一个 / 下一个标签页"),
    ("scroll the results", "滚动结果"),
    ("billing: on-demand <-> spot", "计费方式：按量付费 <-> 抢占式"),
    ("Plan tab: cost-vs-hours chart <-> Pareto table", "方案页：成本-时长图 <-> 帕累托表"),
    ("pin for Compare (up to 3: A, B, C)", "固定以便对比（最多 3 个：A、B、C）"),
    ("unpin the newest", "取消最新的固定"),
    ("export as CSV: asks the path, never overwrites", "导出为 CSV：询问路径，从不覆盖"),
    ("this help (any key closes it)", "本帮助（按任意键关闭）"),
    ("quit (twice if pinned); Esc never quits", "退出（有固定方案时按两次）；Esc 不退出"),
    ("? for help · q to quit", "? 帮助 · q 退出"),
    ("export to: edit the path, Enter writes, Esc cancels (never overwrites)", "导出到：编辑路径，Enter 写入，Esc 取消（从不覆盖）"),
    ("empty: Enter keeps the method's default targets · Tab completes", "为空：Enter 保留该方法的默认目标模块 · Tab 补全"),
    ("completed · Enter applies", "已补全 · Enter 应用"),
    ("paste ignored: press Enter on a field to type into it", "已忽略粘贴：在输入项上按 Enter 再输入"),
    ("type to search · Space ticks · Enter applies · Esc cancels", "输入以搜索 · 空格勾选 · Enter 应用 · Esc 取消"),
    ("type to search · ↑↓ choose · Enter picks · Esc cancels", "输入以搜索 · ↑↓ 选择 · Enter 选定 · Esc 取消"),
    ("cancelled", "已取消"),
    ("export cancelled", "已取消导出"),
    ("type a file name to export to (Esc cancels)", "输入要导出的文件名（Esc 取消）"),
    ("nothing to pin: the current inputs have an error", "无法固定：当前输入有错误"),
    ("nothing pinned", "没有固定的方案"),
    (
        "pricing not loaded: the planner needs the price tables (see `peftcost pricing validate`)",
        "价格表未加载：规划需要价格表（见 `peftcost pricing validate`）",
    ),
    ("pricing not loaded", "价格表未加载"),
    (
        "the price tables could not be loaded (see `peftcost pricing validate`).",
        "价格表无法加载（见 `peftcost pricing validate`）。",
    ),
    ("no offer: no priced hardware fits these inputs with these filters", "没有报价：在这些筛选条件下，没有有价格的硬件放得下这些输入"),
    ("try another provider or billing, more GPUs, a smaller micro-batch or checkpointing", "可换云平台或计费方式、增加 GPU、减小微批或开启梯度检查点"),
    ("bill", "计费"),
    ("od", "按量"),
    ("sp", "抢占"),
    ("hw×n", "硬件×数"),
    ("data", "数据"),
    ("train", "训练"),
    ("original", "原币种"),
    ("target", "部署目标"),
    ("inst.", "实例"),
    ("per month", "每月"),
    ("per M", "每百万"),
    ("Nothing pinned yet.", "还没有固定的方案。"),
    ("Press p to pin the current scenario (up to three: A, B, C), change the", "按 p 固定当前方案（最多三个：A、B、C），然后修改"),
    ("inputs, and this tab compares them side by side with the current one:", "输入，本页把它们与当前方案并排对比："),
    ("parameters, memory, hours, cheapest cost. u unpins the newest.", "参数、显存、时长、最低成本。按 u 取消最新的固定。"),
    ("now", "当前"),
    ("now vs A", "当前对比 A"),
    ("changed", "有变化"),
    ("NO FEASIBLE PLAN", "没有可行方案"),
    (
        "raise the budget or the deadline (0 = none), allow QLoRA, raise max gpus, or change the provider/billing",
        "提高预算或放宽期限（0 = 无），允许 QLoRA，提高 GPU 上限，或更换云平台/计费方式",
    ),
    ("feasible", "可行"),
    ("Pareto front", "帕累托前沿"),
    ("hours (log)", "时长（对数）"),
    ("mb×acc", "批×累积"),
    ("mem/GPU", "显存/卡"),
    ("wall", "耗时"),
    ("QLoRA not considered: set \"allow QLoRA\" on", "未考虑 QLoRA：把“允许QLoRA”设为开启"),
    ("checkpointing on", "开启梯度检查点"),
    ("method qlora", "改用 QLoRA"),
    ("search:", "搜索："),
    ("no match: Backspace widens the search", "无匹配：按 Backspace 放宽搜索"),
    ("export to:", "导出到："),
    ("hardware shown (Space ticks, Enter applies)", "显示的硬件（空格勾选，Enter 应用）"),
    ("no offer", "无报价"),
    // Errors and stderr prefixes.
    ("error: ", "错误："),
    ("warning: ", "警告："),
];

/// Messages that carry data: English with `{}` holes, Chinese with `{0}`, `{1}`, ... Listed
/// most specific first: the first whose fixed parts match the whole text is used.
pub static TEMPLATES: &[(&str, &str)] = &[
    // Titles.
    ("peftcost estimate: {} + {}", "peftcost 微调估算：{0} + {1}"),
    ("peftcost deploy: {}", "peftcost 部署估算：{0}"),
    ("peftcost plan: {}", "peftcost 方案规划：{0}"),
    (
        "Serving, cheapest first ({}; per instance; tokens/s include the prefill share)",
        "部署，最便宜在前（{0}；按实例；token/秒 含预填充部分）",
    ),
    (
        "Deployment table: best precision that fits, per instance, cheapest offer ({})",
        "部署表：放得下的最高精度，按实例，最便宜报价（{0}）",
    ),
    (
        "{} LoRA adapters on one base vs {} merged models ({})",
        "同一基座上的 {0} 个 LoRA 适配器 vs {1} 个合并后的模型（{2}）",
    ),
    // Cells.
    ("{} (memory holds every expert; FLOPs follow the active ones)", "{0}（显存容纳全部专家；FLOPs 按激活专家计）"),
    ("{} on {} gpu(s): micro-batch and checkpointing fitted per device", "{0}，{1} 块 GPU：微批与检查点按设备自动适配"),
    ("{} requests/s ({} per day)", "每秒 {0} 个请求（每天 {1} 个）"),
    ("{} ({} params)", "{0}（{1} 参数）"),
    ("{} (the checkpoint's); CPU: GGUF Q4_K_M", "{0}（检查点自带）；CPU：GGUF Q4_K_M"),
    ("{} ({} bits/w)", "{0}（每权重 {1} 位）"),
    ("{} x{} (on-demand)", "{0} ×{1}（按量付费）"),
    ("{} x{} (spot)", "{0} ×{1}（抢占式）"),
    ("{} x{} (monthly)", "{0} ×{1}（包月）"),
    ("{} (on-demand)", "{0}（按量付费）"),
    ("{} (spot)", "{0}（抢占式）"),
    ("{} (monthly)", "{0}（包月）"),
    ("mb {} x ga {}", "微批 {0} × 累积 {1}"),
    ("{} GPUs ZeRO-{}", "{0} 卡 ZeRO-{1}"),
    ("lora r={} on {}", "LoRA r={0}，目标模块 {1}"),
    ("qlora r={} on {}", "QLoRA r={0}，目标模块 {1}"),
    ("dora r={} on {}", "DoRA r={0}，目标模块 {1}"),
    ("ia3 on {}", "IA3，目标模块 {0}"),
    ("adapter bottleneck={}", "Adapter 瓶颈维度={0}"),
    ("prefix virtual_tokens={}", "Prefix 虚拟 token={0}"),
    ("prompt virtual_tokens={}", "Prompt 虚拟 token={0}"),
    ("int4 ({})", "int4（{0}）"),
    // Notes of estimate.
    ("{} has no bf16: estimated in {}", "{0} 不支持 bf16：按 {1} 估算"),
    ("{} has no bf16: served in fp16 (same size)", "{0} 不支持 bf16：以 fp16 部署（大小相同）"),
    (
        "default targets {} from {}; peft has no default for model_type '{}' (our default, not peft's)",
        "默认目标模块 {0}，来自 {1}；peft 对 model_type '{2}' 没有默认值（本工具的默认值，非 peft 的）",
    ),
    (
        "peft has no default targets for model_type '{}': using {} as for its dense relative (our default, not peft's); the experts take target_parameters (targets {})",
        "peft 对 model_type '{0}' 没有默认目标模块：按其稠密版本使用 {1}（本工具的默认值，非 peft 的）；专家用 target_parameters（目标 {2}）",
    ),
    ("peft has no IA3 default for '{}': using llama's {}", "peft 对 '{0}' 没有 IA3 默认值：使用 llama 的 {1}"),
    (
        "{} offers on machines with more GPUs than the job uses left out (their GPUs would idle): a global batch they divide (--global-batch) trains data-parallel on all of them",
        "略去 {0} 个 GPU 数多于任务所用的机器报价（多余 GPU 会闲置）：给出能被其整除的全局批大小（--global-batch）即可在全部 GPU 上数据并行训练",
    ),
    (
        "prices older than 90 days: {}; check them against their sources or run `peftcost pricing update --from URL`",
        "价格已超过 90 天：{0}；请对照来源核实，或运行 `peftcost pricing update --from URL`",
    ),
    ("{} more offers: --top N, or --format json|csv", "另有 {0} 个报价：--top N，或 --format json|csv"),
    (
        "FSDP accumulates gradients unsharded between optimizer steps (the Trainer's no_sync): {} GiB more per GPU; --sync-each-batch (accelerate's sync_each_batch) reduce-scatters every micro-batch instead",
        "FSDP 在两次优化器更新之间以未分片形式累积梯度（Trainer 的 no_sync）：每卡多 {0} GiB；--sync-each-batch（accelerate 的 sync_each_batch）改为每个微批都 reduce-scatter",
    ),
    (
        "host RAM beyond the GPU: {} GiB per GPU ({} GiB offloaded state, {} GiB offloaded checkpoints); a machine needs that times its GPUs besides the training processes themselves",
        "GPU 之外还需主机内存：每卡 {0} GiB（卸载的状态 {1} GiB，卸载的检查点 {2} GiB）；整机需要乘以 GPU 数，另加训练进程本身",
    ),
    (
        "{} offers kept whose price tables do not state the machines' RAM: check each has the host RAM its GPUs keep offloaded (`memory.host_state_bytes` per GPU)",
        "保留 {0} 个价格表未注明机器内存的报价：请核实每台机器有其各 GPU 卸载所需的主机内存（每卡见 `memory.host_state_bytes`）",
    ),
    (
        "{} candidates kept whose price tables do not state the machines' RAM: check each has the host RAM its GPUs keep offloaded (`memory.host_state_bytes` per GPU)",
        "保留 {0} 个价格表未注明机器内存的候选方案：请核实每台机器有其各 GPU 卸载所需的主机内存（每卡见 `memory.host_state_bytes`）",
    ),
    (
        "{} candidates left out: their machines have less RAM than their GPUs keep offloaded in host memory",
        "略去 {0} 个候选方案：其机器内存小于各 GPU 卸载到主机内存的总量",
    ),
    (
        "{} offers left out: their machines have less RAM than their GPUs keep offloaded in host memory",
        "略去 {0} 个报价：其机器内存小于各 GPU 卸载到主机内存的总量",
    ),
    (
        "{} multi-machine offers timed with {} Gbit/s between machines (the table states no network_gbps)",
        "{0} 个多机报价按机器间 {1} Gbit/s 计时（价格表未给出 network_gbps）",
    ),
    (
        "global batch kept at {} sequences per optimizer step (micro-batch x grad-accum x GPUs)",
        "全局批大小保持为每个优化器步 {0} 条序列（微批 × 梯度累积 × GPU 数）",
    ),
    (
        "--hardware {} taken as {}; name one (e.g. {}) to choose",
        "--hardware {0} 视为 {1}；请指定其一（如 {2}）",
    ),
    ("{} ({}) and {} ({})", "{0}（{1}）和 {2}（{3}）"),
    // Notes of deploy.
    (
        "KV cache {} per token in {} ({} layers x {} KV heads x {} head dim x 2 (K and V) x {} bytes)",
        "KV 缓存每 token {0}，{1}（{2} 层 × {3} 个 KV 头 × 头维度 {4} × 2（K 和 V）× {5} 字节）",
    ),
    ("runtime overhead {} per GPU ({} per CPU server); usable memory {}", "运行时开销每 GPU {0}（每台 CPU 服务器 {1}）；可用显存 {2}"),
    (
        "one {} serves {} requests/s at batch {} (TTFT {}, TPOT {}); {} instance(s) for {} requests/s",
        "一台 {0} 在批大小 {2} 时每秒处理 {1} 个请求（首 token 延迟 {3}，每 token 延迟 {4}）；每秒 {6} 个请求需 {5} 个实例",
    ),
    (
        "one {} serves {} requests/s at batch {} (TTFT {}); {} instance(s) for {} requests/s",
        "一台 {0} 在批大小 {2} 时每秒处理 {1} 个请求（首 token 延迟 {3}）；每秒 {5} 个请求需 {4} 个实例",
    ),
    (
        "needs {} (weights + overhead + one sequence of {} tokens), {} usable",
        "需要 {0}（权重 + 开销 + 一条 {1} token 的序列），可用 {2}",
    ),
    (
        "int4 {}: {} bits/weight for GPTQ/AWQ group-128 (4 bits + fp16 scale and zero per 128), {} for GGUF Q4_K_M",
        "int4 {0}：GPTQ/AWQ 分组 128 每权重 {1} 位（4 位 + 每 128 个一组 fp16 缩放与零点），GGUF Q4_K_M 为 {2} 位",
    ),
    (
        "workload: {} requests/s, {} input / {} output tokens (encoders: {} tokens per sequence); order tried: {}",
        "负载：每秒 {0} 个请求，输入 {1} / 输出 {2} 个 token（编码器：每条序列 {3} 个 token）；尝试顺序：{4}",
    ),
    ("no offer for {} in the pricing tables", "价格表中没有 {0} 的报价"),
    ("{}: {} on {} (fits), {}, from {} USD", "{0}：{2} 上需 {1}（放得下），{3}，{4} USD 起"),
    (
        "{}: {} on {} (fits), {}, {} host RAM per GPU, from {} USD",
        "{0}：{2} 上需 {1}（放得下），{3}，每卡另需主机内存 {4}，{5} USD 起",
    ),
    (
        "{}: {} on {} (fits), {}, {} host RAM per GPU",
        "{0}：{2} 上需 {1}（放得下），{3}，每卡另需主机内存 {4}",
    ),
    ("{}: {} on {} (fits), {}", "{0}：{2} 上需 {1}（放得下），{3}"),
    ("{}: {} on {} (fits)", "{0}：{2} 上需 {1}（放得下）"),
    ("{}: {} on {} (still does not fit), {}, from {} USD", "{0}：{2} 上需 {1}（仍放不下），{3}，{4} USD 起"),
    ("{}: {} on {} (still does not fit), {}", "{0}：{2} 上需 {1}（仍放不下），{3}"),
    ("{}: {} on {} (still does not fit)", "{0}：{2} 上需 {1}（仍放不下）"),
    ("fits nowhere at {}; what would fit:", "{0} 精度下哪里都放不下；可以这样改："),
    ("--precision {} fits on --hardware {}", "--precision {0} 可在 --hardware {1} 上放下"),
    (
        "nothing fits; a shorter --context than {} or fewer --adapters may help",
        "都放不下；把 --context 缩短到 {0} 以下，或减少 --adapters 可能有用",
    ),
    ("{} more Pareto plans: --top N or --format json", "另有 {0} 个帕累托方案：--top N 或 --format json"),
    // Notes of plan.
    ("cheapest: lowest job cost of the {} feasible candidates", "最便宜：{0} 个可行方案中总成本最低者"),
    ("fastest: shortest wall-clock time of the {} feasible candidates", "最快：{0} 个可行方案中耗时最短者"),
    (
        "searched {} configurations, {} fitting candidates, {} within deadline {} and budget {}",
        "搜索了 {0} 种配置，{1} 个放得下的方案，{2} 个满足期限 {3} 和预算 {4}",
    ),
    ("no feasible plan: {}", "没有可行方案：{0}"),
    (
        "cannot meet the deadline: the fastest plan takes {}, {} over {}",
        "无法满足期限：最快的方案需要 {0}，比 {2} 多 {1}",
    ),
    (
        "cannot meet the budget: the cheapest plan costs {}, {} over {}",
        "无法满足预算：最便宜的方案需要 {0}，比 {2} 多 {1}",
    ),
    // Errors.
    ("unknown {} '{}': did you mean '{}'? known: {}", "未知的{0} '{1}'：是否想输入 '{2}'？已知：{3}"),
    ("unknown {} '{}': known: {}", "未知的{0} '{1}'：已知：{2}"),
    ("{} must be {} (got {})", "{0} 必须为 {1}（实际为 {2}）"),
    ("{} = {} is absurd: at most {} is accepted", "{0} = {1} 不合理：最多接受 {2}"),
    ("internal error: {}", "内部错误：{0}"),
    ("{} (or pass --model-config config.json)", "{0}（或传入 --model-config config.json）"),
    ("a positive integer", "正整数"),
    ("unknown method '{}': use one of {}", "未知的方法 '{0}'：可用 {1}"),
    (
        "unknown currency '{}': fx.toml has rates for {} (add one to <config dir>/pricing/fx.toml)",
        "未知的货币 '{0}'：fx.toml 只有 {1} 的汇率（在 <config dir>/pricing/fx.toml 中添加）",
    ),
    ("--fail-if-not-fits {}: needs {} but {} has {}; fits with {}", "--fail-if-not-fits {0}：需要 {1}，但 {2} 只有 {3}；改为 {4} 即可放下"),
    (
        "--fail-if-not-fits {}: needs {} but {} has {}; no combination of checkpointing, micro-batch, QLoRA, ZeRO-3 and shorter sequences fits it",
        "--fail-if-not-fits {0}：需要 {1}，但 {2} 只有 {3}；梯度检查点、微批、QLoRA、ZeRO-3 与更短序列的任何组合都放不下",
    ),
    ("--fail-if-not-fits {}: {} is not among the estimated hardware (add it to --hardware)", "--fail-if-not-fits {0}：{1} 不在估算的硬件中（加入 --hardware）"),
    ("--fail-if-cost-over {}: the cheapest job costs {}", "--fail-if-cost-over {0}：最便宜的任务也要 {1}"),
    ("a multiple of --gpus ({})", "--gpus 的整数倍（{0}）"),
    ("a multiple of --micro-batch x --gpus ({})", "--micro-batch × --gpus 的整数倍（{0}）"),
    (
        "at most {} tokens: {} has {} positions; add --allow-rope-extension to train longer with RoPE scaling",
        "最多 {0} 个 token：{1} 只有 {2} 个位置；加 --allow-rope-extension 以 RoPE 缩放训练更长序列",
    ),
    (
        "at most {} tokens: {} has {} learned positions, which cannot be extended",
        "最多 {0} 个 token：{1} 有 {2} 个学习得到的位置，无法扩展",
    ),
    ("{} with {} virtual tokens", "{0}（含 {1} 个虚拟 token）"),
    ("at most {}", "最多 {0}"),
    ("int4 GPTQ (group {}) ({} bits/w Linears, {} avg)", "int4 GPTQ（分组 {0}）（Linear 每权重 {1} 位，平均 {2}）"),
    ("int4 AWQ (group {}) ({} bits/w Linears, {} avg)", "int4 AWQ（分组 {0}）（Linear 每权重 {1} 位，平均 {2}）"),
    ("int8 (GPTQ-style, group {})", "int8（GPTQ 式，分组 {0}）"),
    ("{} --precision {} fits on {}", "{0} --precision {1} 可在 {2} 上放下"),
    ("--precision {} fits on {}", "--precision {0} 可在 {1} 上放下"),
    ("a positive number", "正数"),
    ("at least {}", "至少 {0}"),
    ("between {} and {}", "介于 {0} 与 {1} 之间"),
    // The TUI.
    ("{}x{} now, needs at least {}x{}", "当前 {0}x{1}，至少需要 {2}x{3}"),
    ("train {} of {} ({}%) · export {} · {} steps", "训练 {0} / {1}（{2}%）· 导出 {3} · {4} 步"),
    ("train {} of {} ({}%) · {} steps", "训练 {0} / {1}（{2}%）· {3} 步"),
    ("prov. {} · cur. {} · {} (b)", "云平台 {0} · 货币 {1} · {2}（b）"),
    (
        "provider {} · currency {} · billing {} (b: on-demand/spot)",
        "云平台 {0} · 货币 {1} · 计费方式 {2}（b：按量付费/抢占式）",
    ),
    (
        "{} added: the smallest device that fits, as none of the chosen ones does (h edits the set)",
        "已加入 {0}：所选设备都放不下，这是放得下的最小设备（h 修改设备集）",
    ),
    ("→{}gpu z3", "→{0}卡 Z3"),
    ("→seq {}", "→序列 {0}"),
    ("→mb{}", "→微批{0}"),
    (
        "{} offers, cheapest first. price/h, setup/data/train/export and original in the offer's currency.",
        "共 {0} 个报价，最便宜在前。每小时价格、准备/数据/训练/导出和原币种金额均以报价自身的货币计。",
    ),
    (
        "#1 {}: {}/h; setup {} + data {} + train {} + export {} {}. {} offers (od: on-demand; wider: all columns)",
        "#1 {0}：{1}/小时；准备 {2} + 数据 {3} + 训练 {4} + 导出 {5} {6}。共 {7} 个报价（按量：按量付费；终端更宽时显示全部列）",
    ),
    (
        "serving {} at {} · {} req/s · {} in + {} out tokens · {}",
        "部署 {0}（{1}）· 每秒 {2} 个请求 · 输入 {3} + 输出 {4} token · {5}",
    ),
    (
        "per M = {} per million {}; the serving inputs are at the bottom left",
        "每百万 = 每百万{1} 的 {0} 成本；部署输入在左下方",
    ),
    ("serving cost per month ({})", "每月部署成本（{0}）"),
    ("serve dtype {} fits on other hardware: {}", "部署精度 {0} 可在其他硬件上放下：{1}"),
    ("serve dtype {} fits on {}", "部署精度 {0} 可在 {1} 上放下"),
    ("nothing fits; fewer serve tokens than {} may help", "都放不下；把部署 token 数减到 {0} 以下可能有用"),
    ("{} not shown: widen the terminal", "{0} 未显示：请加宽终端"),
    ("deadline {} · budget {} · ≤{} GPUs · QLoRA {}", "期限 {0} · 预算 {1} · ≤{2} 卡 · QLoRA {3}"),
    ("{} configs searched · {} fit · {} feasible", "搜索了 {0} 种配置 · {1} 个放得下 · {2} 个可行"),
    (
        "Cost vs hours: {} feasible plans, the Pareto front ({}) drawn (v: table)",
        "成本与时长：可行方案 {0} 个，前沿 {1} 个（v：表格）",
    ),
    (
        "Pareto front: cost vs time, cheapest first ({} plans) (v: chart)",
        "帕累托前沿：最便宜在前（{0} 个方案）（v：图表）",
    ),
    ("{} (log)", "{0}（对数）"),
    ("{}/month", "{0}/每月"),
    ("mb {}×{}", "微批 {0}×{1}"),
    ("{} of {} match", "匹配 {0} / {1}"),
    ("Pick {}", "选择{0}"),
    ("{} · {} params · {}", "{0} · {1} 参数 · {2}"),
    ("{} GiB · {} · {}", "{0} GiB · {1} · {2}"),
    ("{} · {} · {} offers · as of {}", "{0} · {1} · {2} 个报价 · 截至 {3}"),
    ("ok: {} · {} trainable · Enter applies · Tab completes", "可用：{0} · 可训练 {1} · Enter 应用 · Tab 补全"),
    ("no target starts with '{}': {}", "没有以 '{0}' 开头的目标模块：{1}"),
    ("matches: {}", "匹配：{0}"),
    ("type {} and press Enter (Esc cancels)", "输入{0}后按 Enter（Esc 取消）"),
    (
        "{} pinned scenario(s) will be lost: q again quits, any other key stays",
        "{0} 个固定的方案将丢失：再按 q 退出，按其他键留下",
    ),
    ("hardware shown: {}", "显示的硬件：{0}"),
    ("exported {} rows to {}", "已导出 {0} 行到 {1}"),
    ("export failed: {}", "导出失败：{0}"),
    ("{} needs a number (0: none)", "{0} 需要一个数（0：无）"),
    ("{} needs a whole number > 0", "{0} 需要大于 0 的整数"),
    ("{} needs a number > 0", "{0} 需要大于 0 的数"),
    ("{} (Esc cancels)", "{0}（Esc 取消）"),
    ("{} scenarios pinned already: u unpins the newest", "已固定 {0} 个方案：按 u 取消最新的固定"),
    ("pinned {}: {}", "已固定 {0}：{1}"),
    ("unpinned {}: {}", "已取消固定 {0}：{1}"),
    ("mean {}: packed into {} rows of {} tokens", "平均 {0}：打包为 {1} 行，每行 {2} token"),
    (
        "mean {}, longest {}: micro-batches padded to their longest",
        "平均 {0}，最长 {1}：微批填充到其中最长的样本",
    ),
    (
        "range on a calibrated CPU: 8 in 10 of {} measured CPU steps fell within peak RSS x{}-{} and time x{}-{} of the estimate (`tests/truth/cpu_truth.json`)",
        "范围（已校准的 CPU）：{0} 个实测 CPU 训练步中，十之八九的峰值常驻内存在估算值的 ×{1}–{2} 之内、时间在 ×{3}–{4} 之内（`tests/truth/cpu_truth.json`）",
    ),
    (
        "range: 8 in 10 of {} measured GPU steps fell within memory x{}-{} and time x{}-{} of the estimate (`devices[].range`, from `tests/truth/error_spread.py`)",
        "范围：{0} 个实测 GPU 训练步中，十之八九的显存在估算值的 ×{1}–{2} 之内、时间在 ×{3}–{4} 之内（`devices[].range`，来自 `tests/truth/error_spread.py`）",
    ),
    (
        "{}: measured on {}, but this machine is {}: rerun `peftcost bench` here, or pass --force-calibration to apply it anyway",
        "{0}：校准测于 {1}，而本机是 {2}：请在本机重新运行 `peftcost bench`，或加 --force-calibration 强制使用",
    ),
    // A message about one thing ("t4: ...") before a list is split at its commas.
    ("{}: {}", "{0}：{1}"),
    // A compared cell that differs from the first scenario's.
    ("{} *", "{0} *"),
];

/// Short generic shapes, tried after the templates and after splitting a list at its commas,
/// so that no longer message is taken for one of them.
pub static SHAPES: &[(&str, &str)] = &[
    ("{} h", "{0} 小时"),
    ("{} (unspecified)", "{0}（地域未注明）"),
    ("{} tokens", "{0} 个 token"),
    ("mb {}", "微批 {0}"),
    ("{} GPUs", "{0} 卡"),
    ("needs {}", "需要 {0}"),
    ("{} fits", "{0} 放得下"),
    ("{} hours", "{0} 时长"),
    ("{} memory", "{0} 显存"),
    ("{} min", "{0} 分钟"),
    ("{} min ({})", "{0} 分钟（{1}）"),
    ("{} h ({})", "{0} 小时（{1}）"),
    // The TUI: the status line's "field = value", a plan's job cost header, fit remedies.
    ("{} = {}", "{0} = {1}"),
    ("job {}", "成本 {0}"),
    ("micro-batch {}", "微批 {0}"),
    ("gpus {}", "{0} 块 GPU"),
    ("seq-len {}", "序列长度 {0}"),
];

/// Shorter Chinese for the TUI's narrow table columns, sized for their English ([`crate::report::i18n::Lang::tr_short`]):
/// where the usual Chinese (放得下, 批大小, token/秒) is wider than the column.
pub static SHORT: &[(&str, &str)] = &[
    ("fits", "可行"),
    ("batch", "批量"),
    ("tok/s", "吞吐"),
    ("ckpt", "重算"),
    ("billing", "计费"),
    ("mb×acc", "批×累"),
];

/// The kinds an `unknown {kind}` error names.
pub static KINDS: &[(&str, &str)] = &[
    ("model", "模型"),
    ("hardware", "硬件"),
    ("provider", "云平台"),
    ("currency", "货币"),
    ("method", "方法"),
];

fn phrases() -> &'static HashMap<&'static str, &'static str> {
    static MAP: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| PHRASES.iter().chain(KINDS).copied().collect())
}

/// The holes of `template` (`{}` marks one) in `text`, when its fixed parts match the whole
/// text with every hole non-empty; each hole is the shortest that lets the next part follow.
pub fn holes<'t>(template: &str, text: &'t str) -> Option<Vec<&'t str>> {
    let parts: Vec<&str> = template.split("{}").collect();
    let (first, rest) = parts.split_first()?;
    let (last, middle) = rest.split_last()?;
    let body = text.strip_prefix(first)?.strip_suffix(last)?;
    let mut out = Vec::with_capacity(rest.len());
    let mut at = 0;
    for part in middle {
        // A hole holds at least one character before the next fixed part.
        let from = at + body[at..].chars().next()?.len_utf8();
        let found = body.get(from..)?.find(part)? + from;
        out.push(&body[at..found]);
        at = found + part.len();
    }
    let tail = &body[at..];
    if tail.is_empty() {
        return None;
    }
    out.push(tail);
    Some(out)
}

/// The Chinese of `text`, when the catalogue has it (see the module docs).
pub fn translate(text: &str) -> Option<String> {
    if let Some(zh) = phrases().get(text) {
        return Some((*zh).to_string());
    }
    if let Some(out) = fill_first(TEMPLATES, text) {
        return Some(out);
    }
    // A list of parts ("mb 4 x ga 1, ckpt"): each part on its own.
    if text.contains(", ") {
        let parts: Vec<(&str, Option<String>)> =
            text.split(", ").map(|en| (en, translate(en))).collect();
        if parts.iter().any(|(_, zh)| zh.is_some()) {
            let zh: Vec<String> = parts
                .into_iter()
                .map(|(en, zh)| zh.unwrap_or_else(|| en.to_string()))
                .collect();
            return Some(zh.join("，"));
        }
    }
    fill_first(SHAPES, text)
}

/// The Chinese of the first of `templates` that `text` matches, its holes translated in turn.
fn fill_first(templates: &[(&str, &str)], text: &str) -> Option<String> {
    templates.iter().find_map(|(en, zh)| {
        let holes = holes(en, text)?;
        let mut out = (*zh).to_string();
        for (i, h) in holes.iter().enumerate() {
            let filled = translate(h).unwrap_or_else(|| (*h).to_string());
            out = out.replace(&format!("{{{i}}}"), &filled);
        }
        Some(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_take_the_data_between_fixed_parts() {
        assert_eq!(holes("{} fits", "a10 fits"), Some(vec!["a10"]));
        assert_eq!(holes("mb {} x ga {}", "mb 4 x ga 1"), Some(vec!["4", "1"]));
        assert_eq!(holes("{} fits", " fits"), None);
        assert_eq!(holes("mb {}", "mb "), None);
        assert_eq!(holes("{} x {}", "a x b x c"), Some(vec!["a", "b x c"]));
    }

    #[test]
    fn a_note_that_quotes_a_message_comes_out_whole() {
        assert_eq!(
            translate("t4: t4 has no bf16: served in fp16 (same size)").as_deref(),
            Some("t4：t4 不支持 bf16：以 fp16 部署（大小相同）")
        );
        assert_eq!(
            translate("needs qlora, mb 2").as_deref(),
            Some("需改用 QLoRA，微批 2")
        );
        assert_eq!(translate("qwen-7b"), None);
    }

    #[test]
    fn every_template_has_a_hole_for_each_of_its_numbers() {
        for (en, zh) in TEMPLATES.iter().chain(SHAPES) {
            let n = en.matches("{}").count();
            for i in 0..n {
                assert!(zh.contains(&format!("{{{i}}}")), "{en} -> {zh}: no {{{i}}}");
            }
            assert!(
                !zh.contains(&format!("{{{n}}}")),
                "{en} -> {zh}: extra hole"
            );
        }
    }
}
