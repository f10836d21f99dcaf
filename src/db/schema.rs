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
        creditor -> Nullable<DbJson>,
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
        revision -> BigInt,
    }
}

diesel::table! {
    catalogue_revision (id) {
        id -> Integer,
        revision -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::DbTime;
    signing_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        private_key -> Text,
        public_key -> Text,
        created_at -> DbTime,
        sign_from -> DbTime,
        retired_at -> Nullable<DbTime>,
        publish_until -> Nullable<DbTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbTime, DbUuid};
    accounts (id) {
        id -> DbUuid,
        email -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        kind -> Text,
        role -> Nullable<Text>,
        department_id -> Nullable<DbUuid>,
        display_name -> Nullable<Text>,
        email_verified_at -> Nullable<DbTime>,
        disabled_at -> Nullable<DbTime>,
        external_issuer -> Nullable<Text>,
        external_subject -> Nullable<Text>,
        created_at -> DbTime,
        updated_at -> DbTime,
        revision -> BigInt,
        language -> Text,
        optional_mail -> Bool,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbTime, DbUuid};
    clients (id) {
        id -> DbUuid,
        client_id -> Text,
        name -> Text,
        secret_hash -> Text,
        scopes -> Text,
        organisation_id -> Nullable<DbUuid>,
        disabled_at -> Nullable<DbTime>,
        created_at -> DbTime,
        updated_at -> DbTime,
        is_public -> Bool,
        department_id -> Nullable<DbUuid>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbTime, DbUuid};
    refresh_tokens (id) {
        id -> DbUuid,
        token_hash -> Text,
        family_id -> DbUuid,
        account_id -> DbUuid,
        scope -> Text,
        created_at -> DbTime,
        expires_at -> DbTime,
        used_at -> Nullable<DbTime>,
        revoked_at -> Nullable<DbTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::DbTime;
    revoked_tokens (jti) {
        jti -> Text,
        expires_at -> DbTime,
        revoked_at -> DbTime,
    }
}

diesel::table! {
    security_revision (id) {
        id -> Integer,
        revision -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbJson, DbTime, DbUuid};
    audit_events (seq) {
        seq -> BigInt,
        id -> DbUuid,
        occurred_at -> DbTime,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Text>,
        outcome -> Text,
        ip -> Nullable<Text>,
        request_id -> Nullable<Text>,
        details -> DbJson,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbTime, DbUuid};
    organisations (id) {
        id -> DbUuid,
        uid -> Text,
        name -> Text,
        status -> Text,
        created_by -> Nullable<DbUuid>,
        decided_at -> Nullable<DbTime>,
        decided_by -> Nullable<Text>,
        revision -> BigInt,
        created_at -> DbTime,
        updated_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbTime, DbUuid};
    memberships (organisation_id, account_id) {
        organisation_id -> DbUuid,
        account_id -> DbUuid,
        role -> Text,
        created_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbTime, DbUuid};
    mail_outbox (id) {
        id -> DbUuid,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        created_at -> DbTime,
        next_attempt_at -> DbTime,
        attempts -> Integer,
        sent_at -> Nullable<DbTime>,
        last_error -> Nullable<Text>,
        html -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbTime, DbUuid};
    email_tokens (token_hash) {
        token_hash -> Text,
        account_id -> DbUuid,
        purpose -> Text,
        created_at -> DbTime,
        expires_at -> DbTime,
        used_at -> Nullable<DbTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbJson, DbTime, DbUuid};
    applications (id) {
        id -> DbUuid,
        reference -> Nullable<Text>,
        tracking_code -> Nullable<Text>,
        service_id -> DbUuid,
        service_version -> Integer,
        department_id -> DbUuid,
        applicant_account -> Nullable<DbUuid>,
        applicant_organisation -> Nullable<DbUuid>,
        created_by -> Text,
        phase -> Text,
        step -> Text,
        step_log -> DbJson,
        data -> DbJson,
        assignee_id -> Nullable<DbUuid>,
        revision -> BigInt,
        created_at -> DbTime,
        updated_at -> DbTime,
        submitted_at -> Nullable<DbTime>,
        status_changed_at -> DbTime,
        due_at -> Nullable<DbTime>,
        public_comment -> Nullable<Text>,
        public_comment_at -> Nullable<DbTime>,
        represented -> Nullable<DbJson>,
        requests -> Nullable<DbJson>,
        requests_due_on -> Nullable<DbTime>,
        language -> Text,
        closed_at -> Nullable<DbTime>,
        retain_until -> Nullable<DbTime>,
        anonymised_at -> Nullable<DbTime>,
        payment -> Nullable<DbJson>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::DbTime;
    jobs (name) {
        name -> Text,
        next_run_at -> DbTime,
        lease_until -> Nullable<DbTime>,
        lease_owner -> Nullable<Text>,
        last_run_at -> Nullable<DbTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbJson, DbTime, DbUuid};
    application_history (id) {
        id -> DbUuid,
        application_id -> DbUuid,
        occurred_at -> DbTime,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        from_phase -> Nullable<Text>,
        to_phase -> Nullable<Text>,
        from_step -> Nullable<Text>,
        to_step -> Nullable<Text>,
        public_comment -> Nullable<Text>,
        internal_note -> Nullable<Text>,
        details -> DbJson,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbJson, DbTime, DbUuid};
    application_messages (id) {
        id -> DbUuid,
        application_id -> DbUuid,
        side -> Text,
        author_kind -> Text,
        author_id -> Text,
        body -> Text,
        documents -> DbJson,
        created_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbTime, DbUuid};
    application_message_reads (application_id, side) {
        application_id -> DbUuid,
        side -> Text,
        up_to -> DbUuid,
        up_to_at -> DbTime,
        read_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbTime, DbUuid};
    documents (id) {
        id -> DbUuid,
        application_id -> DbUuid,
        filename -> Text,
        media_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        storage_key -> Text,
        created_at -> DbTime,
        created_by -> Text,
        request_id -> Nullable<DbUuid>,
        side -> Text,
        decision -> Bool,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbJson, DbTime};
    idempotency_keys (owner, endpoint, key) {
        owner -> Text,
        endpoint -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Nullable<Integer>,
        headers -> Nullable<DbJson>,
        body -> Nullable<Text>,
        created_at -> DbTime,
        locked_until -> DbTime,
        expires_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbJson, DbTime, DbUuid};
    events (id) {
        id -> DbUuid,
        position -> Nullable<BigInt>,
        #[sql_name = "type"]
        type_ -> Text,
        occurred_at -> DbTime,
        subject_type -> Text,
        subject_id -> Text,
        department_id -> Nullable<DbUuid>,
        applicant_account -> Nullable<DbUuid>,
        applicant_organisation -> Nullable<DbUuid>,
        data -> DbJson,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbJson, DbTime, DbUuid};
    webhook_endpoints (id) {
        id -> DbUuid,
        organisation_id -> Nullable<DbUuid>,
        department_id -> Nullable<DbUuid>,
        url -> Text,
        event_types -> DbJson,
        enabled -> Bool,
        description -> Text,
        language -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<DbTime>,
        position -> BigInt,
        disabled_reason -> Nullable<Text>,
        revision -> BigInt,
        created_by -> Text,
        created_at -> DbTime,
        updated_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbTime, DbUuid};
    webhook_deliveries (id) {
        id -> DbUuid,
        endpoint_id -> DbUuid,
        event_id -> DbUuid,
        event_type -> Text,
        occurred_at -> DbTime,
        position -> Nullable<BigInt>,
        subject_type -> Text,
        subject_id -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> DbTime,
        lease_until -> Nullable<DbTime>,
        created_at -> DbTime,
        finished_at -> Nullable<DbTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbTime, DbUuid};
    webhook_attempts (id) {
        id -> DbUuid,
        delivery_id -> DbUuid,
        endpoint_id -> DbUuid,
        attempted_at -> DbTime,
        outcome -> Text,
        http_status -> Nullable<Integer>,
        latency_ms -> Integer,
        error -> Nullable<Text>,
        response -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbJson, DbTime, DbUuid};
    invoices (id) {
        id -> DbUuid,
        application_id -> DbUuid,
        number -> Integer,
        department_id -> DbUuid,
        status -> Text,
        amount -> BigInt,
        paid_amount -> BigInt,
        currency -> Text,
        reference_type -> Text,
        reference -> Text,
        iban -> Text,
        creditor -> DbJson,
        debtor -> Nullable<DbJson>,
        message -> Nullable<Text>,
        issued_at -> DbTime,
        due_on -> DbTime,
        paid_at -> Nullable<DbTime>,
        reason -> Nullable<Text>,
        revision -> BigInt,
        updated_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbTime, DbUuid};
    bank_notifications (id) {
        id -> DbUuid,
        message_id -> Text,
        version -> Text,
        sha256 -> Text,
        received_at -> DbTime,
        received_by -> Text,
        credits -> Integer,
        recorded -> Integer,
        matched -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{DbTime, DbUuid};
    payments (id) {
        id -> DbUuid,
        bank_reference -> Text,
        notification_id -> DbUuid,
        invoice_id -> Nullable<DbUuid>,
        status -> Text,
        reason -> Nullable<Text>,
        amount -> BigInt,
        currency -> Text,
        booking_date -> DbTime,
        reference -> Nullable<Text>,
        debtor -> Nullable<Text>,
        account -> Nullable<Text>,
        recorded_at -> DbTime,
        matched_by -> Nullable<Text>,
        matched_at -> Nullable<DbTime>,
    }
}

diesel::joinable!(services -> departments (department_id));
diesel::joinable!(invoices -> applications (application_id));
diesel::joinable!(applications -> services (service_id));
diesel::joinable!(memberships -> organisations (organisation_id));
diesel::joinable!(memberships -> accounts (account_id));
diesel::joinable!(service_versions -> services (service_id));
diesel::joinable!(refresh_tokens -> accounts (account_id));
diesel::joinable!(application_history -> applications (application_id));
diesel::joinable!(documents -> applications (application_id));
diesel::joinable!(application_messages -> applications (application_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::allow_tables_to_appear_in_same_query!(
    categories,
    departments,
    services,
    service_versions,
    catalogue_revision,
    signing_keys,
    accounts,
    clients,
    refresh_tokens,
    revoked_tokens,
    security_revision,
    audit_events,
    organisations,
    memberships,
    mail_outbox,
    email_tokens,
    applications,
    application_history,
    application_messages,
    application_message_reads,
    documents,
    idempotency_keys,
    events,
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts,
    jobs,
    invoices,
    bank_notifications,
    payments,
);
