//! Trainable and total parameter counts against published `peft` printouts and the formulas of
//! shared/reference/models.md. Each case names its source; [V] = printed by peft in the cited
//! source, [C] = computed in models.md §9 from the config and peft's rules.

use peftcost::arch::{import_hf_config, Inventory, ModelCatalog, ModelProfile, Task};
use peftcost::peft::{self, AdapterStyle, LoraBias, MethodConfig, MethodKind, ParamCounts};

fn model(id: &str) -> ModelProfile {
    ModelCatalog::embedded().unwrap().get(id).unwrap().clone()
}

fn hf(json: &str) -> ModelProfile {
    import_hf_config("test.json", json, Some("test")).unwrap()
}

fn counts(p: &ModelProfile, task: Task, labels: u64, cfg: MethodConfig) -> ParamCounts {
    let inv = Inventory::build(p, task, labels).unwrap();
    peft::resolve(p, &inv, &cfg).unwrap().counts
}

fn causal(p: &ModelProfile, cfg: MethodConfig) -> ParamCounts {
    counts(p, Task::CausalLm, 0, cfg)
}

fn lora(rank: u64, targets: &[&str]) -> MethodConfig {
    MethodConfig {
        rank,
        targets: Some(targets.iter().map(|s| s.to_string()).collect()),
        ..MethodConfig::new(MethodKind::Lora)
    }
}

fn default_of(kind: MethodKind) -> MethodConfig {
    MethodConfig::new(kind)
}

fn with_kind(mut cfg: MethodConfig, kind: MethodKind) -> MethodConfig {
    cfg.kind = kind;
    cfg
}

const LLAMA2_7B: &str = include_str!("../data/llama-2-7b.json");
// Llama-3.2-1B config.json (meta-llama/Llama-3.2-1B): tied embeddings, GQA kv=8, head_dim 64.
const LLAMA32_1B: &str = r#"{"model_type":"llama","hidden_size":2048,"num_hidden_layers":16,"num_attention_heads":32,
  "num_key_value_heads":8,"head_dim":64,"intermediate_size":8192,"vocab_size":128256,"max_position_embeddings":131072,
  "tie_word_embeddings":true}"#;
// Meta-Llama-3-8B config.json.
const LLAMA3_8B: &str = r#"{"model_type":"llama","hidden_size":4096,"num_hidden_layers":32,"num_attention_heads":32,
  "num_key_value_heads":8,"intermediate_size":14336,"vocab_size":128256,"max_position_embeddings":8192,"tie_word_embeddings":false}"#;
// Qwen/Qwen-1_8B config.json (v1 remote code).
const QWEN_1_8B: &str = r#"{"model_type":"qwen","hidden_size":2048,"num_hidden_layers":24,"num_attention_heads":16,
  "kv_channels":128,"intermediate_size":11008,"vocab_size":151936,"seq_length":8192,"no_bias":true}"#;
// Qwen/Qwen2.5-3B-Instruct config.json: tied, kv=2.
const QWEN25_3B: &str = r#"{"model_type":"qwen2","hidden_size":2048,"num_hidden_layers":36,"num_attention_heads":16,
  "num_key_value_heads":2,"intermediate_size":11008,"vocab_size":151936,"max_position_embeddings":32768,"tie_word_embeddings":true}"#;
// bert-base-cased config.json.
const BERT_BASE_CASED: &str = r#"{"model_type":"bert","hidden_size":768,"num_hidden_layers":12,"num_attention_heads":12,
  "intermediate_size":3072,"vocab_size":28996,"max_position_embeddings":512,"type_vocab_size":2}"#;
// Mistral-7B-v0.1 with the vocabulary resized to 32027 (peft example with additional tokens).
const MISTRAL_32027: &str = r#"{"model_type":"mistral","hidden_size":4096,"num_hidden_layers":32,"num_attention_heads":32,
  "num_key_value_heads":8,"intermediate_size":14336,"vocab_size":32027,"max_position_embeddings":32768,"tie_word_embeddings":false}"#;

// ---- Published totals (models.md §1-§6) ----

#[test]
fn totals_of_the_six_target_models_are_exact() {
    // models.md: ChatGLM3 [V+C] torchinfo; Qwen-7B, Qwen2.5-7B, Mistral [V+C] via peft all - trainable;
    // MiniCPM [C] tied (paper non-embedding + embedding); bge [V+C] torchinfo.
    let cases = [
        ("chatglm3-6b", 6_243_584_000u64),
        ("qwen-7b", 7_721_324_544),
        ("qwen2.5-7b", 7_615_616_512),
        ("mistral-7b", 7_241_732_096),
        ("minicpm-2b", 2_724_880_896),
        ("bge-large-zh-v1.5", 325_522_432),
    ];
    for (id, total) in cases {
        let p = model(id);
        let inv = Inventory::build(&p, peftcost::estimate::Scenario::default_task(&p), 2).unwrap();
        assert_eq!(inv.total_params(), total, "{id}");
        assert_eq!(p.published_total, Some(total), "{id} profile field");
    }
}

#[test]
fn totals_of_relatives_from_config_json() {
    // models.md §6: Llama-2-7b 6,738,415,616; Llama-3-8B 8,030,261,248; Qwen-1.8B 1,836,828,672 [V+C];
    // Qwen2.5-3B tied 3,085,938,688 [V+C]; bert-base-cased BertModel+pooler 108,310,272 [V+C].
    let total =
        |json: &str, task: Task| Inventory::build(&hf(json), task, 2).unwrap().total_params();
    assert_eq!(total(LLAMA2_7B, Task::CausalLm), 6_738_415_616);
    assert_eq!(total(LLAMA3_8B, Task::CausalLm), 8_030_261_248);
    assert_eq!(total(QWEN_1_8B, Task::CausalLm), 1_836_828_672);
    assert_eq!(total(QWEN25_3B, Task::CausalLm), 3_085_938_688);
    assert_eq!(total(BERT_BASE_CASED, Task::FeatureExtraction), 108_310_272);
    // MiniCPM untied would be 3,007,703,808 (models.md §4).
    let mut p = model("minicpm-2b");
    p.tie_word_embeddings = false;
    assert_eq!(
        Inventory::build(&p, Task::CausalLm, 0)
            .unwrap()
            .total_params(),
        3_007_703_808
    );
}

// ---- models.md §7: published print_trainable_parameters() outputs [V] ----

#[test]
fn row1_chatglm3_lora_default_targets() {
    // THUDM/ChatGLM3 finetune_demo/lora_finetune.ipynb: r=8 default target query_key_value.
    let c = causal(&model("chatglm3-6b"), default_of(MethodKind::Lora));
    assert_eq!((c.trainable, c.all), (1_949_696, 6_245_533_696));
}

#[test]
fn row2_chatglm3_lora_rank2() {
    // intel-analytics/ipex-llm chatglm_finetune README: r=2.
    let cfg = MethodConfig {
        rank: 2,
        ..default_of(MethodKind::Lora)
    };
    let c = causal(&model("chatglm3-6b"), cfg);
    assert_eq!((c.trainable, c.all), (487_424, 6_244_071_424));
}

#[test]
fn row4_qwen7b_lora_qwen_list() {
    // public train_lora.py (index id 27329668259): r=8 on c_attn,c_proj,w1,w2 (c_proj hits attn and mlp).
    let c = causal(
        &model("qwen-7b"),
        lora(8, &["c_attn", "c_proj", "w1", "w2"]),
    );
    assert_eq!((c.trainable, c.all), (17_891_328, 7_739_215_872));
    // The same list is our default for Qwen v1.
    assert_eq!(
        causal(&model("qwen-7b"), default_of(MethodKind::Lora)).trainable,
        17_891_328
    );
}

#[test]
fn row5_qwen_1_8b_lora_qwen_list() {
    // same train_lora.py, Qwen-1.8B.
    let c = causal(&hf(QWEN_1_8B), lora(8, &["c_attn", "c_proj", "w1", "w2"]));
    assert_eq!((c.trainable, c.all), (6_709_248, 1_843_537_920));
    // The embedded profile is the same model.
    let c = causal(&model("qwen-1.8b"), default_of(MethodKind::Lora));
    assert_eq!((c.trainable, c.all), (6_709_248, 1_843_537_920));
}

#[test]
fn row6_qwen25_7b_all_seven_linears() {
    // tutorial (index id 4771858606): r=8 q,k,v,o,gate,up,down.
    let c = causal(
        &model("qwen2.5-7b"),
        lora(
            8,
            &[
                "q_proj",
                "k_proj",
                "v_proj",
                "o_proj",
                "gate_proj",
                "up_proj",
                "down_proj",
            ],
        ),
    );
    assert_eq!((c.trainable, c.all), (20_185_088, 7_635_801_600));
    // The role aliases and all-linear select the same seven Linears.
    assert_eq!(
        causal(
            &model("qwen2.5-7b"),
            lora(8, &["q", "k", "v", "o", "gate", "up", "down"])
        )
        .trainable,
        20_185_088
    );
    assert_eq!(
        causal(&model("qwen2.5-7b"), lora(8, &["all-linear"])).trainable,
        20_185_088
    );
}

#[test]
fn row7_qwen25_3b_tied_default_targets() {
    // huggingface/peft README.md: r=16 default targets (q_proj, v_proj); tied embeddings counted once.
    let cfg = MethodConfig {
        rank: 16,
        ..default_of(MethodKind::Lora)
    };
    let c = causal(&hf(QWEN25_3B), cfg);
    assert_eq!((c.trainable, c.all), (3_686_400, 3_089_625_088));
}

#[test]
fn row8_mistral_qlora_q_v() {
    // two public READMEs (index ids 68925725117, 61466338390): 4-bit, peft counter (full-precision all).
    let c = causal(
        &model("mistral-7b"),
        with_kind(lora(8, &["q_proj", "v_proj"]), MethodKind::Qlora),
    );
    assert_eq!((c.trainable, c.all), (3_407_872, 7_245_139_968));
    // adapters LoRAConfig() default on Llama-3-8B (r=8, q,v) has the same geometry: 3,407,872.
    assert_eq!(
        causal(&hf(LLAMA3_8B), lora(8, &["q", "v"])).trainable,
        3_407_872
    );
}

#[test]
fn row9_mistral_resized_vocab_lora_on_embeddings_and_head() {
    // huggingface/peft examples/causal_language_modeling/peft_lora_clm_with_additional_tokens.ipynb.
    let c = causal(
        &hf(MISTRAL_32027),
        lora(64, &["embed_tokens", "lm_head", "q_proj", "v_proj"]),
    );
    assert_eq!((c.trainable, c.all), (31_886_720, 7_273_840_000));
}

#[test]
fn row11_minicpm_lora_q_v() {
    // OpenBMB/MiniCPM finetune/finetune.py comment: trainable 2,949,120 (its 'all' is the untied count).
    let c = causal(&model("minicpm-2b"), default_of(MethodKind::Lora));
    assert_eq!(c.trainable, 2_949_120);
    let mut untied = model("minicpm-2b");
    untied.tie_word_embeddings = false;
    assert_eq!(
        causal(&untied, default_of(MethodKind::Lora)).all,
        3_010_652_928
    );
}

#[test]
fn row12_llama3_8b_dora_all_linears() {
    // huggingface/peft examples/dora_finetuning/QDoRA_finetuning.ipynb: LoRA 20,971,520 + magnitudes 1,376,256.
    let c = causal(
        &hf(LLAMA3_8B),
        with_kind(lora(8, &["all-linear"]), MethodKind::Dora),
    );
    assert_eq!(c.trainable, 22_347_776);
}

#[test]
fn row13_llama32_1b_q_proj() {
    // huggingface/peft docs/source/quicktour.md.
    let c = causal(&hf(LLAMA32_1B), lora(8, &["q_proj"]));
    assert_eq!((c.trainable, c.all), (524_288, 1_236_338_688));
}

#[test]
fn row15_chinese_alpaca_7b() {
    // ymcui/Chinese-LLaMA-Alpaca issue #189: LLaMA-7B with V=49954, r=8 q,v.
    let json = LLAMA2_7B.replace("\"vocab_size\": 32000", "\"vocab_size\": 49954");
    let c = causal(&hf(&json), lora(8, &["q_proj", "v_proj"]));
    assert_eq!((c.trainable, c.all), (4_194_304, 6_889_689_088));
}

#[test]
fn row16_llama2_7b_q_v() {
    // many tutorials (index id 59779811155).
    let c = causal(&hf(LLAMA2_7B), lora(8, &["q_proj", "v_proj"]));
    assert_eq!((c.trainable, c.all), (4_194_304, 6_742_609_920));
}

#[test]
fn row21_bert_seq_cls_prefix_tuning() {
    // peft_model.py PeftModelForSequenceClassification docstring: 368,640 prefix + 1,538 classifier.
    let cfg = MethodConfig {
        virtual_tokens: 20,
        ..default_of(MethodKind::Prefix)
    };
    let c = counts(&hf(BERT_BASE_CASED), Task::SeqCls, 2, cfg);
    assert_eq!(c.trainable, 370_178);
}

#[test]
fn row22_bert_seq_cls_lora_query_key() {
    // huggingface/peft examples/evaluation/lora-lm-eval.ipynb: head trainable once, counted twice in all.
    let c = counts(
        &hf(BERT_BASE_CASED),
        Task::SeqCls,
        2,
        lora(8, &["query", "key"]),
    );
    assert_eq!((c.trainable, c.all), (296_450, 108_608_260));
}

// ---- models.md §9: computed PEFT sizes for the target models [C] ----

#[test]
fn section9_lora_all_linear() {
    assert_eq!(
        causal(&model("chatglm3-6b"), lora(8, &["all-linear"])).trainable,
        14_823_424
    );
    assert_eq!(
        causal(&model("qwen-7b"), lora(8, &["all-linear"])).trainable,
        17_891_328
    );
    assert_eq!(
        causal(&model("mistral-7b"), lora(8, &["all-linear"])).trainable,
        20_971_520
    );
    assert_eq!(
        causal(&model("minicpm-2b"), lora(8, &["all-linear"])).trainable,
        13_639_680
    );
    // bge: models.md lists 3,538,944 for the six block Linears; peft's all-linear also wraps
    // BertModel's pooler.dense (only the output embedding is excluded): + 8*(1024+1024) = 16,384.
    let bge = counts(
        &model("bge"),
        Task::FeatureExtraction,
        0,
        lora(8, &["all-linear"]),
    );
    assert_eq!(bge.trainable, 3_538_944 + 16_384);
    // BERT's `output.dense` suffix hits both attention.output.dense and the FFN output.dense:
    let bge6 = counts(
        &model("bge"),
        Task::FeatureExtraction,
        0,
        lora(
            8,
            &[
                "query",
                "key",
                "value",
                "output.dense",
                "intermediate.dense",
            ],
        ),
    );
    assert_eq!(bge6.trainable, 3_538_944);
}

#[test]
fn section9_lora_defaults_and_dora_extra() {
    let base = |id: &str, kind| causal(&model(id), default_of(kind)).trainable;
    assert_eq!(base("qwen2.5-7b", MethodKind::Lora), 2_523_136);
    assert_eq!(base("mistral-7b", MethodKind::Lora), 3_407_872);
    assert_eq!(
        base("chatglm3-6b", MethodKind::Dora) - base("chatglm3-6b", MethodKind::Lora),
        129_024
    );
    assert_eq!(
        base("qwen-7b", MethodKind::Dora) - base("qwen-7b", MethodKind::Lora),
        1_359_872
    );
    assert_eq!(
        base("qwen2.5-7b", MethodKind::Dora) - base("qwen2.5-7b", MethodKind::Lora),
        114_688
    );
    assert_eq!(
        base("mistral-7b", MethodKind::Dora) - base("mistral-7b", MethodKind::Lora),
        163_840
    );
    assert_eq!(
        base("minicpm-2b", MethodKind::Dora) - base("minicpm-2b", MethodKind::Lora),
        184_320
    );
    let bge = |kind| counts(&model("bge"), Task::FeatureExtraction, 0, default_of(kind)).trainable;
    assert_eq!(bge(MethodKind::Lora), 786_432);
    assert_eq!(bge(MethodKind::Dora) - bge(MethodKind::Lora), 49_152);
    // Qwen-7B with only c_attn: 4,194,304, DoRA + 393,216.
    assert_eq!(
        causal(&model("qwen-7b"), lora(8, &["c_attn"])).trainable,
        4_194_304
    );
    assert_eq!(
        causal(
            &model("qwen-7b"),
            with_kind(lora(8, &["c_attn"]), MethodKind::Dora)
        )
        .trainable,
        4_194_304 + 393_216
    );
}

#[test]
fn section9_ia3_defaults() {
    let ia3 = |id: &str| {
        let p = model(id);
        counts(
            &p,
            peftcost::estimate::Scenario::default_task(&p),
            0,
            default_of(MethodKind::Ia3),
        )
        .trainable
    };
    assert_eq!(ia3("chatglm3-6b"), 512_512);
    assert_eq!(ia3("qwen-7b"), 745_472);
    assert_eq!(ia3("qwen2.5-7b"), 645_120);
    assert_eq!(ia3("mistral-7b"), 524_288);
    assert_eq!(ia3("minicpm-2b"), 414_720);
    assert_eq!(ia3("bge"), 172_032);
}

#[test]
fn section9_prompt_learning_20_tokens() {
    let n = |id: &str, kind, projection| {
        let p = model(id);
        let cfg = MethodConfig {
            virtual_tokens: 20,
            prefix_projection: projection,
            ..default_of(kind)
        };
        counts(&p, peftcost::estimate::Scenario::default_task(&p), 0, cfg).trainable
    };
    // Prompt tuning: n * h.
    assert_eq!(n("chatglm3-6b", MethodKind::Prompt, false), 81_920);
    assert_eq!(n("qwen2.5-7b", MethodKind::Prompt, false), 71_680);
    assert_eq!(n("minicpm-2b", MethodKind::Prompt, false), 46_080);
    assert_eq!(n("bge", MethodKind::Prompt, false), 20_480);
    // Prefix tuning without projection (GQA-adjusted token_dim as peft >= 0.12).
    assert_eq!(n("qwen-7b", MethodKind::Prefix, false), 5_242_880);
    assert_eq!(n("qwen2.5-7b", MethodKind::Prefix, false), 573_440);
    assert_eq!(n("mistral-7b", MethodKind::Prefix, false), 1_310_720);
    assert_eq!(n("minicpm-2b", MethodKind::Prefix, false), 3_686_400);
    assert_eq!(n("bge", MethodKind::Prefix, false), 983_040);
    // ChatGLM3: the model's own P-tuning v2 prefix, pre_seq_len * 14,336 (models.md §1).
    assert_eq!(n("chatglm3-6b", MethodKind::Prefix, false), 286_720);
    // With projection.
    assert_eq!(n("qwen-7b", MethodKind::Prefix, true), 1_090_867_200);
    assert_eq!(n("qwen2.5-7b", MethodKind::Prefix, true), 14_981_632);
    assert_eq!(n("mistral-7b", MethodKind::Prefix, true), 68_244_480);
    assert_eq!(n("minicpm-2b", MethodKind::Prefix, true), 430_214_400);
    assert_eq!(n("bge", MethodKind::Prefix, true), 51_450_880);
    // P-tuning (MLP prompt encoder, H = h).
    assert_eq!(n("chatglm3-6b", MethodKind::Ptuning, false), 50_425_856);
    assert_eq!(n("qwen2.5-7b", MethodKind::Ptuning, false), 38_617_600);
    assert_eq!(n("minicpm-2b", MethodKind::Ptuning, false), 15_978_240);
    assert_eq!(n("bge", MethodKind::Ptuning, false), 3_169_280);
}

#[test]
fn chatglm3_native_ptuning_v2_128() {
    // models.md §1: pre_seq_len * 28*128*2*2; finetune_demo's ptuning_v2.yaml uses 128 -> 1,835,008.
    let cfg = MethodConfig {
        virtual_tokens: 128,
        ..default_of(MethodKind::Prefix)
    };
    assert_eq!(causal(&model("chatglm3-6b"), cfg).trainable, 1_835_008);
}

#[test]
fn section9_bottleneck_adapters() {
    let ad = |id: &str, style| {
        let p = model(id);
        let cfg = MethodConfig {
            adapter_style: style,
            ..default_of(MethodKind::Adapter)
        };
        counts(&p, peftcost::estimate::Scenario::default_task(&p), 0, cfg).trainable
    };
    assert_eq!(ad("qwen2.5-7b", AdapterStyle::Pfeiffer), 45_064_320);
    assert_eq!(ad("qwen2.5-7b", AdapterStyle::Houlsby), 90_128_640);
    assert_eq!(ad("mistral-7b", AdapterStyle::Pfeiffer), 67_248_128);
    assert_eq!(ad("mistral-7b", AdapterStyle::Houlsby), 134_496_256);
    assert_eq!(ad("chatglm3-6b", AdapterStyle::Pfeiffer), 58_842_112);
    assert_eq!(ad("minicpm-2b", AdapterStyle::Houlsby), 53_280_000);
    assert_eq!(ad("bge", AdapterStyle::Pfeiffer), 3_171_840);
    assert_eq!(ad("bge", AdapterStyle::Houlsby), 6_343_680);
    // bert-base seq_bn: 894,528 (models.md §8, [C]).
    let p = hf(BERT_BASE_CASED);
    assert_eq!(
        counts(
            &p,
            Task::FeatureExtraction,
            0,
            default_of(MethodKind::Adapter)
        )
        .trainable,
        894_528
    );
}

#[test]
fn section9_bge_seq_cls_lora() {
    // models.md §9: BertForSequenceClassification, 2 labels, LoRA r=8 query,value: 788,482 / 326,312,964.
    let c = counts(&model("bge"), Task::SeqCls, 2, default_of(MethodKind::Lora));
    assert_eq!((c.trainable, c.all), (788_482, 326_312_964));
}

#[test]
fn full_finetuning_trains_everything() {
    for (id, total) in [("qwen-7b", 7_721_324_544u64), ("minicpm-2b", 2_724_880_896)] {
        let c = causal(&model(id), default_of(MethodKind::Full));
        assert_eq!((c.trainable, c.all), (total, total), "{id}");
    }
}

#[test]
fn qwen_lora_emb_modules_to_save() {
    // Qwen finetune.py "LoRA (emb)": modules_to_save wte, lm_head -> + 2 * 151936*4096 trainable copies.
    let cfg = MethodConfig {
        modules_to_save: vec!["wte".into(), "lm_head".into()],
        ..lora(8, &["c_attn", "c_proj", "w1", "w2"])
    };
    let c = causal(&model("qwen-7b"), cfg);
    assert_eq!(c.trainable, 17_891_328 + 2 * 622_329_856);
    assert_eq!(c.all, 7_739_215_872 + 2 * 622_329_856);
}

#[test]
fn lora_bias_modes() {
    // bias="lora_only": the biases of targeted Linears (qkv: 28 * 4608); "all": every bias (same here).
    let mut cfg = default_of(MethodKind::Lora);
    cfg.lora_bias = LoraBias::LoraOnly;
    assert_eq!(
        causal(&model("chatglm3-6b"), cfg.clone()).trainable,
        1_949_696 + 28 * 4608
    );
    cfg.lora_bias = LoraBias::All;
    assert_eq!(
        causal(&model("chatglm3-6b"), cfg).trainable,
        1_949_696 + 28 * 4608
    );
}

// ---- 2026's models: peft's own counts on the meta device (tests/truth/peft_counts_2026.py) ----

/// Every case of tests/truth/peft_counts_2026.json (peft 0.21.2, transformers 5.25, built from
/// each model's config.json on the meta device): trainable and all counts equal peft's for full
/// fine-tuning, LoRA r=8 on peft's defaults, on attention and on all linears, IA3 and prompt
/// tuning; for the mixtures of experts LoRA on the fused experts (peft's `target_parameters`)
/// and on the router instead of all-linear; and each config.json imports to the same profile
/// numbers as the embedded one.
#[test]
fn counts_of_2026_models_equal_peft_on_the_meta_device() {
    let truth: serde_json::Value =
        serde_json::from_str(include_str!("../truth/peft_counts_2026.json")).unwrap();
    assert_eq!(truth["versions"]["peft"], "0.21.2");
    let mut checked = 0;
    for (id, m) in truth["models"].as_object().unwrap() {
        let file = format!("tests/truth/{}", m["config_file"].as_str().unwrap());
        let imported =
            import_hf_config(&file, &std::fs::read_to_string(&file).unwrap(), Some(id)).unwrap();
        // A layout test (a config written to exercise a block, not a published model) has no
        // embedded profile: its imported profile is what is counted.
        let layout_test = m["layout_test"].as_bool().unwrap_or(false);
        let p = if layout_test {
            imported.clone()
        } else {
            model(id)
        };
        // Encoders are counted as the bare model (peft's FEATURE_EXTRACTION), decoders with
        // their LM head.
        let task = match m["task"].as_str() {
            Some("feature-extraction") => Task::FeatureExtraction,
            _ => Task::CausalLm,
        };
        let of = |p: &ModelProfile, cfg| counts(p, task, 0, cfg);
        let total = |p: &ModelProfile| of(p, default_of(MethodKind::Full)).total;
        assert_eq!(
            total(&imported),
            total(&p),
            "{id}: import and profile differ"
        );
        if !layout_test {
            assert_eq!(Some(total(&p)), p.published_total, "{id}");
        }
        for (case, want) in m["cases"].as_object().unwrap() {
            let targets: Vec<&str> = match &want["targets"] {
                serde_json::Value::Array(t) => t.iter().map(|v| v.as_str().unwrap()).collect(),
                serde_json::Value::String(s) => vec![s.as_str()],
                _ => Vec::new(),
            };
            let cfg = match case.as_str() {
                "full" => default_of(MethodKind::Full),
                "lora-default" => default_of(MethodKind::Lora),
                "lora-attention" | "lora-all-linear" | "lora-experts" | "lora-router"
                | "lora-shared-expert" => lora(8, &targets),
                "ia3-default" => default_of(MethodKind::Ia3),
                "prompt-20" => MethodConfig {
                    virtual_tokens: 20,
                    ..default_of(MethodKind::Prompt)
                },
                other => panic!("unknown case {other}"),
            };
            let got = of(&p, cfg);
            assert_eq!(
                got.trainable,
                want["trainable"].as_u64().unwrap(),
                "{id} {case}"
            );
            assert_eq!(got.all, want["all"].as_u64().unwrap(), "{id} {case}");
            checked += 1;
        }
    }
    assert_eq!(
        checked, 110,
        "11 dense models and 1 layout test x 6 cases, 3 mixtures of experts x 7, 2 latent-attention mixtures x 6, 1 encoder x 5"
    );
}

/// Qwen3-30B-A3B's parameters per token, worked from its config.json: of 128 experts of
/// 2048 x 1536 (gate_up) + 768 x 2048 (down) = 4,718,592 weights each, a token uses 8, so the
/// 48 blocks hold 48 x 120 x 4,718,592 = 27,179,089,920 it skips: 30,532,122,624 - that =
/// 3,353,032,704 active (Qwen's model card: 3.3B activated). Matmul weights per token: q 2048 x
/// 4096, k and v 2048 x 512, o 4096 x 2048 (18,874,368), the router 2048 x 128 (262,144) and 8
/// experts (37,748,736) = 56,885,248 a block, x 48, + the head 2048 x 151,936 (311,164,928).
#[test]
fn a_mixture_of_experts_counts_its_routed_experts_per_token() {
    let p = model("qwen3-30b-a3b");
    let inv = Inventory::build(&p, Task::CausalLm, 0).unwrap();
    assert_eq!(inv.total_params(), 30_532_122_624);
    assert_eq!(inv.active_params(), 3_353_032_704);
    assert_eq!(inv.matmul_params(), 48 * 56_885_248 + 311_164_928);
    // A dense model is all active.
    let d = Inventory::build(&model("qwen3-8b"), Task::CausalLm, 0).unwrap();
    assert_eq!(d.active_params(), d.total_params());
    // IA3 cannot scale fused experts: refused with the reason, not counted as 0.
    let err = peft::resolve(
        &p,
        &inv,
        &MethodConfig {
            targets: Some(vec!["down_proj".into()]),
            ..default_of(MethodKind::Ia3)
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("IA3 cannot scale the fused experts"), "{err}");
}

/// Dense blocks among the experts, as transformers builds them. Qwen3-30B-A3B's config with
/// `mlp_only_layers = [0]`: block 0 swaps its router (2048 x 128 = 262,144) and 128 experts
/// (128 x (2048 x 1536 + 768 x 2048) = 603,979,776) for a dense MLP of intermediate_size 6144
/// (3 x 2048 x 6144 = 37,748,736): 30,532,122,624 - 604,241,920 + 37,748,736 = 29,965,629,440.
/// `decoder_sparse_step = 2` keeps 24 of 48 blocks sparse: 30,532,122,624 - 24 x 604,241,920 +
/// 24 x 37,748,736 = 16,936,286,208. Both equal torch's count on the meta device (transformers
/// 5.25, by hand in a Python session; the script is tests/truth/peft_counts_2026.py's `build`).
#[test]
fn dense_blocks_among_experts_are_counted_as_transformers_builds_them() {
    let base: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("tests/truth/configs/qwen3-30b-a3b.json").unwrap(),
    )
    .unwrap();
    for (key, value, want) in [
        ("mlp_only_layers", serde_json::json!([0]), 29_965_629_440u64),
        ("decoder_sparse_step", serde_json::json!(2), 16_936_286_208),
    ] {
        let mut cfg = base.clone();
        cfg[key] = value;
        let p = hf(&cfg.to_string());
        assert_eq!(
            causal(&p, default_of(MethodKind::Full)).total,
            want,
            "{key}"
        );
    }
}

/// DeepSeek-V2-Lite per token: of 64 experts of 2048 x 2816 (gate_up) + 1408 x 2048 (down) =
/// 8,650,752 weights each, a token uses 6, so the 26 sparse blocks hold 26 x 58 x 8,650,752 =
/// 13,045,334,016 it skips: 15,706,484,224 - that = 2,661,150,208 active; less the token
/// embedding (102,400 x 2048 = 209,715,200, a lookup) 2,451,435,008 (DeepSeek: 2.4B activated).
/// The KV cache of latent attention holds the 512-wide latent and the 64-wide rotary key per
/// block: 27 x 576 x 2 B = 31,104 B per token at fp16 (full heads would be 27 x 2 x 16 x 192 x 2
/// = 331,776 B).
#[test]
fn latent_attention_mixture_counts_active_parameters_and_a_compressed_kv_cache() {
    let p = model("deepseek-v2-lite");
    let inv = Inventory::build(&p, Task::CausalLm, 0).unwrap();
    assert_eq!(inv.total_params(), 15_706_484_224);
    assert_eq!(inv.active_params(), 2_661_150_208);
    assert_eq!(p.kv_bytes_per_token(2.0), 31_104.0);
}

/// Remote-code families, counted by hand from their real config.json (no modeling code here).
/// InternLM2.5-7B: embeddings and `output` 2 x 92,544 x 4096 = 758,120,448; a block: wqkv 4096 x
/// (4096 + 2 x 8 x 128) = 25,165,824, wo 16,777,216, w1/w3 2 x 4096 x 14,336 = 117,440,512, w2
/// 58,720,256, norms 8192 = 218,112,000; x 32 + final norm 4096 = 7,737,708,544 (model card:
/// 7.74B). LoRA r=8 on the default wqkv: 32 x 8 x (4096 + 6144) = 2,621,440.
/// Baichuan2-7B: embeddings and head 2 x 125,696 x 4096 = 1,029,701,632; a block: W_pack 4096 x
/// 12,288 = 50,331,648, o_proj 16,777,216, MLP 3 x 4096 x 11,008 = 135,266,304, norms 8192 =
/// 202,383,360; x 32 + 4096 = 7,505,973,248 (model card: 7B, "7.5B" on the Hub). LoRA r=8 on
/// W_pack: 32 x 8 x (4096 + 12,288) = 4,194,304.
#[test]
fn fused_remote_code_layouts_count_by_hand() {
    for (file, total, lora_default) in [
        ("internlm2.5-7b", 7_737_708_544u64, 2_621_440u64),
        ("baichuan2-7b", 7_505_973_248, 4_194_304),
    ] {
        let path = format!("tests/truth/configs/{file}.json");
        let p = import_hf_config(&path, &std::fs::read_to_string(&path).unwrap(), None).unwrap();
        assert_eq!(
            causal(&p, default_of(MethodKind::Full)).total,
            total,
            "{file}"
        );
        assert_eq!(
            causal(&p, default_of(MethodKind::Lora)).trainable,
            lora_default,
            "{file}"
        );
    }
}
