//! SQL types that are native on PostgreSQL (`uuid`, `timestamptz`) and TEXT on SQLite,
//! usable through the multi-backend connection.
use chrono::{DateTime, SecondsFormat, Utc};

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{self, HasSqlType};
use diesel::sqlite::Sqlite;
use diesel::{query_builder::QueryId, sql_types::SqlType};

use super::MultiBackend;

/// `uuid` on PostgreSQL, TEXT on SQLite.
#[derive(Debug, Clone, Copy, SqlType, QueryId)]
#[diesel(postgres_type(oid = 2950, array_oid = 2951))]
#[diesel(sqlite_type(name = "Text"))]
pub struct DbUuid;

/// `timestamptz` on PostgreSQL, RFC 3339 TEXT (UTC, microseconds, sortable) on SQLite.
#[derive(Debug, Clone, Copy, SqlType, QueryId)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Text"))]
pub struct DbTime;

/// `jsonb` on PostgreSQL, JSON TEXT on SQLite (readable with any sqlite3 shell).
#[derive(Debug, Clone, Copy, SqlType, QueryId)]
#[diesel(postgres_type(oid = 3802, array_oid = 3807))]
#[diesel(sqlite_type(name = "Text"))]
pub struct DbJson;

#[derive(Debug, Clone, PartialEq, FromSqlRow, AsExpression)]
#[diesel(sql_type = DbJson)]
pub struct SqlJson(pub serde_json::Value);

/// A JSON document kept as its text (the same column types as [`SqlJson`]): read without
/// building a `serde_json::Value` and written out as it is; parsed only where its content is
/// needed. An application's form data is one: most answers only pass it on.
///
/// The text is trusted, not checked again: it comes from `of` (serde_json's output) or from
/// the database, where we wrote it (PostgreSQL's `jsonb` also checked it). Checking it at every
/// read was 8 % of a feed page's instructions.
#[derive(Debug, Clone, FromSqlRow, AsExpression)]
#[diesel(sql_type = DbJson)]
pub struct SqlDoc(Box<str>);

impl SqlDoc {
    /// The document of a value (a `serde_json::Value` or a typed one).
    pub fn of<T: serde::Serialize>(v: &T) -> Result<SqlDoc, serde_json::Error> {
        serde_json::to_string(v).map(|s| SqlDoc(s.into_boxed_str()))
    }

    /// Its JSON text.
    pub fn get(&self) -> &str {
        &self.0
    }

    pub fn value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.0)
    }
}

impl serde::Serialize for SqlDoc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::json::raw(&self.0, s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, FromSqlRow, AsExpression)]
#[diesel(sql_type = DbUuid)]
pub struct SqlUuid(pub uuid::Uuid);

impl From<crate::domain::ids::ApplicationId> for SqlUuid {
    fn from(id: crate::domain::ids::ApplicationId) -> SqlUuid {
        SqlUuid(id.0)
    }
}

impl From<crate::domain::ids::DocumentId> for SqlUuid {
    fn from(id: crate::domain::ids::DocumentId) -> SqlUuid {
        SqlUuid(id.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, FromSqlRow, AsExpression)]
#[diesel(sql_type = DbTime)]
pub struct SqlTime(pub DateTime<Utc>);

impl SqlTime {
    /// Now, truncated to microseconds (PostgreSQL's precision) so both backends agree.
    pub fn now() -> SqlTime {
        let now = Utc::now();
        let micros = now.timestamp_micros();
        SqlTime(DateTime::from_timestamp_micros(micros).unwrap_or(now))
    }
}

impl From<uuid::Uuid> for SqlUuid {
    fn from(u: uuid::Uuid) -> Self {
        SqlUuid(u)
    }
}

// --- SQLite ---------------------------------------------------------------------------------

impl FromSql<DbUuid, Sqlite> for SqlUuid {
    fn from_sql(bytes: <Sqlite as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let s = <String as FromSql<sql_types::Text, Sqlite>>::from_sql(bytes)?;
        Ok(SqlUuid(uuid::Uuid::parse_str(&s)?))
    }
}

impl ToSql<DbUuid, Sqlite> for SqlUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.hyphenated().to_string());
        Ok(IsNull::No)
    }
}

fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl FromSql<DbTime, Sqlite> for SqlTime {
    fn from_sql(bytes: <Sqlite as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let s = <String as FromSql<sql_types::Text, Sqlite>>::from_sql(bytes)?;
        Ok(SqlTime(DateTime::parse_from_rfc3339(&s)?.with_timezone(&Utc)))
    }
}

impl ToSql<DbTime, Sqlite> for SqlTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(format_time(&self.0));
        Ok(IsNull::No)
    }
}

// --- PostgreSQL -----------------------------------------------------------------------------

impl FromSql<DbUuid, Pg> for SqlUuid {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(SqlUuid(<uuid::Uuid as FromSql<sql_types::Uuid, Pg>>::from_sql(value)?))
    }
}

impl ToSql<DbUuid, Pg> for SqlUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <uuid::Uuid as ToSql<sql_types::Uuid, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<DbTime, Pg> for SqlTime {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(SqlTime(
            <DateTime<Utc> as FromSql<sql_types::Timestamptz, Pg>>::from_sql(value)?,
        ))
    }
}

impl ToSql<DbTime, Pg> for SqlTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <DateTime<Utc> as ToSql<sql_types::Timestamptz, Pg>>::to_sql(&self.0, out)
    }
}

// --- the multi backend: delegate to whichever backend is in use -----------------------------

impl HasSqlType<DbUuid> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<DbUuid>(lookup)
    }
}

impl HasSqlType<DbTime> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<DbTime>(lookup)
    }
}

impl FromSql<DbUuid, MultiBackend> for SqlUuid {
    fn from_sql(bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<SqlUuid, DbUuid>()
    }
}

impl ToSql<DbUuid, MultiBackend> for SqlUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((DbUuid, self));
        Ok(IsNull::No)
    }
}

impl FromSql<DbTime, MultiBackend> for SqlTime {
    fn from_sql(bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<SqlTime, DbTime>()
    }
}

impl ToSql<DbTime, MultiBackend> for SqlTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((DbTime, self));
        Ok(IsNull::No)
    }
}

// --- JSON ------------------------------------------------------------------------------------

impl FromSql<DbJson, Sqlite> for SqlJson {
    fn from_sql(bytes: <Sqlite as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let s = <String as FromSql<sql_types::Text, Sqlite>>::from_sql(bytes)?;
        Ok(SqlJson(serde_json::from_str(&s)?))
    }
}

impl ToSql<DbJson, Sqlite> for SqlJson {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(IsNull::No)
    }
}

impl FromSql<DbJson, Pg> for SqlJson {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(SqlJson(<serde_json::Value as FromSql<sql_types::Jsonb, Pg>>::from_sql(
            value,
        )?))
    }
}

impl ToSql<DbJson, Pg> for SqlJson {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <serde_json::Value as ToSql<sql_types::Jsonb, Pg>>::to_sql(&self.0, &mut out.reborrow())
    }
}

impl FromSql<DbJson, Sqlite> for SqlDoc {
    fn from_sql(bytes: <Sqlite as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let s = <String as FromSql<sql_types::Text, Sqlite>>::from_sql(bytes)?;
        Ok(SqlDoc(s.into_boxed_str()))
    }
}

impl ToSql<DbJson, Sqlite> for SqlDoc {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.get());
        Ok(IsNull::No)
    }
}

impl FromSql<DbJson, Pg> for SqlDoc {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        // jsonb's binary form: a version byte (1), then the text
        let bytes = value.as_bytes();
        if bytes.first() != Some(&1) {
            return Err("unsupported jsonb encoding version".into());
        }
        let text = std::str::from_utf8(&bytes[1..])?;
        Ok(SqlDoc(Box::from(text)))
    }
}

impl ToSql<DbJson, Pg> for SqlDoc {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        use std::io::Write;
        out.write_all(&[1])?;
        out.write_all(self.get().as_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<DbJson, MultiBackend> for SqlDoc {
    fn from_sql(bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<SqlDoc, DbJson>()
    }
}

impl ToSql<DbJson, MultiBackend> for SqlDoc {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((DbJson, self));
        Ok(IsNull::No)
    }
}

impl HasSqlType<DbJson> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<DbJson>(lookup)
    }
}

impl FromSql<DbJson, MultiBackend> for SqlJson {
    fn from_sql(bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<SqlJson, DbJson>()
    }
}

impl ToSql<DbJson, MultiBackend> for SqlJson {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((DbJson, self));
        Ok(IsNull::No)
    }
}
