use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

#[tokio::test]
async fn binary_prints_one_json_line_then_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clerk-emulator"))
        .args([
            "--port",
            "0",
            "--secret-key",
            "sk_test_cli",
            "--rate-limit",
            "100/10",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    let keys: Vec<&str> = info
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "api_url",
            "frontend_api_url",
            "publishable_key",
            "secret_key"
        ]
    );
    assert_eq!(info["secret_key"], "sk_test_cli");
    let api_url = info["api_url"].as_str().unwrap();
    assert!(api_url.starts_with("http://127.0.0.1:") && api_url.ends_with("/v1"));

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let r = http
        .get(format!("{api_url}/jwt_templates"))
        .bearer_auth("sk_test_cli")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), Value::Array(vec![]));

    // SIGTERM ends it cleanly.
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
