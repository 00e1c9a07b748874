//! Statements built at run time, with the placeholders of the database they run on: `$n`
//! for PostgreSQL (sqlx's `QueryBuilder` for the `Any` driver writes `?`, which PostgreSQL
//! does not read), and `?` for SQLite, which finds each named parameter by a walk of the
//! statement's list of names: a batch of a thousand `$n` cost a million steps to bind (a
//! fifth of a cold start's CPU). The calls mirror `QueryBuilder`'s.

use sqlx::any::{Any, AnyArguments};
use sqlx::query::{Query, QueryAs};
use sqlx::{Arguments, Encode, FromRow, Type};

/// A statement and its arguments, built piece by piece.
pub(super) struct Sql {
    text: String,
    args: AnyArguments,
    n: usize,
    /// `?` rather than `$n`.
    anonymous: bool,
}

impl Sql {
    /// A statement to run on `conn` (its placeholders are that database's).
    pub fn new(conn: &sqlx::AnyConnection, head: &str) -> Sql {
        Sql::with_placeholders(conn.backend_name() == "SQLite", head)
    }

    fn with_placeholders(anonymous: bool, head: &str) -> Sql {
        Sql {
            text: head.to_owned(),
            args: AnyArguments::default(),
            n: 0,
            anonymous,
        }
    }

    pub fn push(&mut self, s: &str) -> &mut Sql {
        self.text.push_str(s);
        self
    }

    /// Appends a placeholder and binds `value` to it.
    pub fn push_bind<'t, T>(&mut self, value: T) -> &mut Sql
    where
        T: Encode<'t, Any> + Type<Any> + 't,
    {
        self.n += 1;
        if self.anonymous {
            self.text.push('?');
        } else {
            self.text.push('$');
            self.text.push_str(&self.n.to_string());
        }
        // An argument that cannot be encoded fails the statement when it runs.
        if let Err(e) = self.args.add(value) {
            tracing::error!(error = %e, "cannot bind a statement argument");
        }
        self
    }

    /// A list whose items `sep` separates.
    pub fn separated<'a>(&'a mut self, sep: &'static str) -> Separated<'a> {
        Separated {
            sql: self,
            sep,
            first: true,
        }
    }

    /// ` VALUES (..), (..)`: one parenthesised row per item, written by `row`.
    pub fn push_values<I, F>(&mut self, items: I, mut row: F) -> &mut Sql
    where
        I: IntoIterator,
        F: FnMut(Separated<'_>, I::Item),
    {
        self.text.push_str("VALUES ");
        let mut first = true;
        for item in items {
            if !first {
                self.text.push_str(", ");
            }
            first = false;
            self.text.push('(');
            row(self.separated(", "), item);
            self.text.push(')');
        }
        self
    }

    #[cfg(test)]
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn build(self) -> Query<'static, Any, AnyArguments> {
        sqlx::query_with(sqlx::AssertSqlSafe(self.text), self.args)
    }

    pub fn build_query_as<O>(self) -> QueryAs<'static, Any, O, AnyArguments>
    where
        O: for<'r> FromRow<'r, sqlx::any::AnyRow>,
    {
        sqlx::query_as_with(sqlx::AssertSqlSafe(self.text), self.args)
    }
}

/// Items of a list, separated (see [`Sql::separated`]).
pub(super) struct Separated<'a> {
    sql: &'a mut Sql,
    sep: &'static str,
    first: bool,
}

impl Separated<'_> {
    fn next(&mut self) {
        if !self.first {
            self.sql.text.push_str(self.sep);
        }
        self.first = false;
    }

    /// An item of literal SQL.
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.next();
        self.sql.text.push_str(s);
        self
    }

    /// An item that is a bound value.
    pub fn push_bind<'t, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'t, Any> + Type<Any> + 't,
    {
        self.next();
        self.sql.push_bind(value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut q = Sql::with_placeholders(false, "INSERT INTO t (a, b) ");
        q.push_values([(1_i64, "x"), (2, "y")], |mut b, (n, s)| {
            b.push_bind(n).push_bind(s);
        });
        q.push(" WHERE c IN (");
        let mut list = q.separated(", ");
        list.push_bind(3_i64);
        list.push("NULL");
        q.push(")");
        assert_eq!(
            q.text(),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) WHERE c IN ($5, NULL)"
        );
        let mut q = Sql::with_placeholders(true, "SELECT ");
        q.push_bind(1_i64).push(", ").push_bind("x");
        assert_eq!(q.text(), "SELECT ?, ?");
    }
}
