//! Typed ids: an application's id cannot be passed where a document's belongs. Each is the
//! UUID guichet gave out, read from a path or body in its hyphenated form only (36
//! characters); anything else names nothing, which a path answers with the documented 404.
use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The id in `raw`, if it is one in the form guichet gives out.
            pub fn parse(raw: &str) -> Option<$name> {
                if raw.len() != 36 {
                    return None;
                }
                Uuid::parse_str(raw).ok().map($name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&raw).ok_or_else(|| serde::de::Error::custom("not an id guichet gives out"))
            }
        }
    };
}

typed_id!(
    /// An application's id.
    ApplicationId
);
typed_id!(
    /// A document's id (unique across applications).
    DocumentId
);
typed_id!(
    /// An organisation's id.
    OrganisationId
);
typed_id!(
    /// An account's id (a resident, a business member or staff).
    AccountId
);
typed_id!(
    /// A webhook endpoint's id.
    WebhookEndpointId
);
typed_id!(
    /// A webhook delivery's id (one event for one endpoint).
    DeliveryId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_hyphenated_form_is_an_id() {
        let id = "0193a4b2-7c1e-7d2a-9f00-3b5c1d2e4f60";
        assert_eq!(ApplicationId::parse(id).map(|a| a.to_string()).as_deref(), Some(id));
        assert_eq!(ApplicationId::parse("0193a4b27c1e7d2a9f003b5c1d2e4f60"), None);
        assert_eq!(ApplicationId::parse("{0193a4b2-7c1e-7d2a-9f00-3b5c1d2e4f6}"), None);
        assert_eq!(DocumentId::parse("x"), None);
        let parsed: DocumentId = serde_json::from_value(serde_json::json!(id)).unwrap();
        assert_eq!(serde_json::to_value(parsed).unwrap(), serde_json::json!(id));
        assert!(serde_json::from_value::<DocumentId>(serde_json::json!("nope")).is_err());
    }
}
