//! The diesel schema, one for both backends (see `types` for the uuid/time columns).
diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::DbJson;
    categories (slug) {
        slug -> Text,
        label -> DbJson,
        updated_at -> crate::db::types::DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbJson, DbTime, DbUuid};
    departments (id) {
        id -> DbUuid,
        slug -> Text,
        name -> DbJson,
        directorate -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        address -> Nullable<Text>,
        website -> Nullable<Text>,
        contact_verified -> DbJson,
        source -> Nullable<Text>,
        revision -> BigInt,
        created_at -> DbTime,
        updated_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbJson, DbTime, DbUuid};
    services (id) {
        id -> DbUuid,
        slug -> Text,
        department_id -> DbUuid,
        category -> Text,
        status -> Text,
        current_version -> Nullable<Integer>,
        revision -> BigInt,
        created_at -> DbTime,
        updated_at -> DbTime,
        retired_at -> Nullable<DbTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbJson, DbTime, DbUuid};
    service_versions (id) {
        id -> DbUuid,
        service_id -> DbUuid,
        version -> Integer,
        state -> Text,
        channel -> Text,
        content -> DbJson,
        form_schema -> DbJson,
        ui_schema -> Nullable<DbJson>,
        search -> DbJson,
        created_at -> DbTime,
        published_at -> Nullable<DbTime>,
        superseded_at -> Nullable<DbTime>,
    }
}

diesel::table! {
    catalogue_revision (id) {
        id -> Integer,
        revision -> BigInt,
    }
}

diesel::joinable!(services -> departments (department_id));
diesel::joinable!(service_versions -> services (service_id));
diesel::allow_tables_to_appear_in_same_query!(categories, departments, services, service_versions, catalogue_revision);
