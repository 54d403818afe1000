//! Webhook signatures: HMAC-SHA256 with the subscription's secret over the timestamp, a dot
//! and the body, sent as `X-Suspense-Signature: sha256=<hex>` beside
//! `X-Suspense-Timestamp: <unix seconds>`. A receiver computes the same over the bytes it
//! received, compares in constant time, and refuses a timestamp outside its tolerance
//! (five minutes, say) and an event id it has already seen: that stops a replayed request.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::subscription::WebhookSecret;

pub const SIGNATURE_HEADER: &str = "x-suspense-signature";
pub const TIMESTAMP_HEADER: &str = "x-suspense-timestamp";
pub const EVENT_ID_HEADER: &str = "x-suspense-event-id";

/// `sha256=<hex of HMAC-SHA256(secret, "{timestamp}.{body}")>`.
pub fn sign(secret: &WebhookSecret, timestamp: i64, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Whether `signature` is `sign(secret, timestamp, body)`, compared in constant time: what a
/// receiver written in Rust does (and this crate's tests).
pub fn verify(secret: &WebhookSecret, timestamp: i64, body: &[u8], signature: &str) -> bool {
    signature
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .is_some_and(|bytes| mac(secret, timestamp, body).verify_slice(&bytes).is_ok())
}

fn mac(secret: &WebhookSecret, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_for_its_own_timestamp_and_body_only() {
        let secret = WebhookSecret::parse("0123456789abcdef0123456789abcdef").expect("secret");
        let other = WebhookSecret::parse("fedcba9876543210fedcba9876543210").expect("secret");
        let signed = sign(&secret, 1_700_000_000, b"{\"id\":\"a\"}");
        assert!(signed.starts_with("sha256=") && signed.len() == 7 + 64);
        assert!(verify(&secret, 1_700_000_000, b"{\"id\":\"a\"}", &signed));
        assert!(!verify(&secret, 1_700_000_001, b"{\"id\":\"a\"}", &signed));
        assert!(!verify(&secret, 1_700_000_000, b"{\"id\":\"b\"}", &signed));
        assert!(!verify(&other, 1_700_000_000, b"{\"id\":\"a\"}", &signed));
        assert!(!verify(
            &secret,
            1_700_000_000,
            b"{\"id\":\"a\"}",
            "sha256=zz"
        ));
    }
}
