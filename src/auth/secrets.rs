//! Random secrets, their hashes, and password hashing.
//!
//! Client secrets and refresh tokens are 256-bit random strings, so a fast SHA-256 is the
//! right hash for them; only low-entropy passwords get the slow Argon2id.
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Bytes from the operating system's random source (never a weaker fallback).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], String> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| format!("the operating system's random source failed: {e}"))?;
    Ok(buf)
}

/// A 256-bit random token, base64url, with a readable prefix (`gcs_`, `grt_`).
pub fn random_token(prefix: &str) -> Result<String, String> {
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)))
}

pub fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares two hashes in constant time.
pub fn same_hash(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Verifies a password; with no stored hash it still spends the time of one verification,
/// so an unknown account answers as slowly as a wrong password.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    const DUMMY: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2vH2Cc0yVYtD5bQyfAcTJ1WhB9p5hGzFYo8E6fh4Ft8";
    let hash = stored.unwrap_or(DUMMY);
    let ok = PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false);
    ok && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_tokens_are_random() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(Some(&h), "correct horse"));
        assert!(!verify_password(Some(&h), "wrong"));
        assert!(!verify_password(None, "anything"));
        assert_ne!(random_token("x_").unwrap(), random_token("x_").unwrap());
        assert_eq!(sha256_hex("abc").len(), 64);
    }
}
