#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    terraform_providers_fuzz::cty_json(data);
});
