//! API-key authentication shared by both transports.
//!
//! There is no default key: with none configured the node is open and says so in its log.
//! Keys are compared in constant time (`subtle`), so response timing does not reveal how
//! much of a guess was right.

use subtle::ConstantTimeEq;

#[derive(Clone, Default)]
pub struct ApiKey(Option<std::sync::Arc<[u8]>>);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "ApiKey(set)"
        } else {
            "ApiKey(none)"
        })
    }
}

impl ApiKey {
    /// `None` or an empty string means no authentication.
    pub fn new(key: Option<&str>) -> ApiKey {
        ApiKey(key.filter(|k| !k.is_empty()).map(|k| k.as_bytes().into()))
    }

    pub fn is_required(&self) -> bool {
        self.0.is_some()
    }

    /// Checks the `x-api-key` value or the `authorization` value (`Bearer K`) a client sent.
    pub fn check(&self, x_api_key: Option<&[u8]>, authorization: Option<&[u8]>) -> bool {
        let Some(expected) = &self.0 else {
            return true;
        };
        let bearer = authorization.and_then(|v| v.strip_prefix(b"Bearer "));
        [x_api_key, bearer]
            .into_iter()
            .flatten()
            .any(|given| bool::from(given.ct_eq(expected)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Proves both header forms are accepted and anything else is refused.
    #[test]
    fn key_forms() {
        let key = ApiKey::new(Some("s3cret"));
        assert!(key.check(Some(b"s3cret"), None));
        assert!(key.check(None, Some(b"Bearer s3cret")));
        assert!(!key.check(None, None));
        assert!(!key.check(Some(b"s3cre"), Some(b"s3cret")));
        assert!(!key.check(None, Some(b"Basic s3cret")));
        assert!(ApiKey::new(None).check(None, None));
        assert!(!ApiKey::new(Some("")).is_required());
    }
}
