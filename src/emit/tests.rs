use super::quote_yaml11_words;

#[test]
fn yaml_1_1_boolean_words_are_quoted_for_pyyaml() {
    // PyYAML (YAML 1.1) reads a bare NO / off / y as a boolean; real booleans stay bare.
    let body = "distributed_type: NO\nmixed_precision: no\nuse_cpu: false\nlist:\n- off\n- on_demand\nname: Norway\n";
    assert_eq!(
        quote_yaml11_words(body),
        "distributed_type: 'NO'\nmixed_precision: 'no'\nuse_cpu: false\nlist:\n- 'off'\n- on_demand\nname: Norway\n"
    );
}
