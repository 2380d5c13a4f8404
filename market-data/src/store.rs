//! The durable store of the market data the services receive while they run: 5-minute bars
//! appended to signals-svc and daily closes appended to market-svc. The bundled files stay the
//! base; the store holds only what was appended on top of them, and each service replays it
//! at start.
//!
//! Cargo feature `store` (off by default: it compiles SQLite's C library); the services turn
//! it on, garch-core-only and file-only consumers do not pay for it.
//!
//! # Guarantee
//! [`Store::append_bars`] and [`Store::append_closes`] return only once the rows are committed
//! and fsync'd: SQLite in WAL mode with `synchronous = FULL` syncs the write-ahead log on every
//! commit (<https://www.sqlite.org/pragma.html#pragma_synchronous>), so an append a service has
//! acknowledged survives `kill -9` and a power loss. One append is one transaction: all its
//! rows or none.
//!
//! # Refusing what it cannot trust
//! [`Store::open`] refuses, with an error naming the file, a file that is not a SQLite
//! database, one that fails SQLite's `quick_check`, one that belongs to another application
//! (`application_id`), and one written by a newer version of this schema (`user_version`
//! greater than [`SCHEMA_VERSION`]). It never recreates or truncates an existing file: data it
//! cannot read are left for an operator, not dropped.
//!
//! # Why SQLite (through `rusqlite`, bundled)
//! A decades-old file format with a documented durability model and corruption detection, one
//! file per service, no server; the bundled library pins the SQLite version the tests ran
//! against. Appends are rare and small (a desk's bars and closes), so SQLite's write path is far
//! from being a bottleneck.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::Bar;
use chrono::NaiveDate;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

/// Version of the schema this build writes and reads. A file with a higher `user_version` was
/// written by a newer build and is refused.
pub const SCHEMA_VERSION: i64 = 1;

/// `PRAGMA application_id` of a store file ("GRCH"): a SQLite file of another application is
/// refused rather than written into.
pub const APPLICATION_ID: i64 = 0x4752_4348;

/// Why the store could not be opened, read or written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file (or its folder) cannot be opened or created.
    #[error("store {path}: cannot open: {source}")]
    Open {
        /// The store file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// The folder of the store cannot be created.
    #[error("store {path}: cannot create its folder: {source}")]
    Folder {
        /// The store file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is damaged or not a SQLite database.
    #[error(
        "store {path}: corrupt or not a store file ({reason}); refusing to start, the file is left untouched"
    )]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// What SQLite reported.
        reason: String,
    },
    /// A SQLite database, but not a store of this application.
    #[error(
        "store {path}: a SQLite file of another application (application_id {found:#x}); refusing to use it"
    )]
    Foreign {
        /// The store file.
        path: PathBuf,
        /// Its application id.
        found: i64,
    },
    /// Written by a newer version of the schema.
    #[error(
        "store {path}: written by a newer version (schema {found}, this build reads up to {SCHEMA_VERSION}); refusing to start"
    )]
    NewerVersion {
        /// The store file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
    },
    /// An append whose first key is not after the last stored one for the symbol (or whose rows
    /// are not increasing): nothing was written.
    #[error("store {path}: {symbol}: {detail}; nothing written")]
    OutOfOrder {
        /// The store file.
        path: PathBuf,
        /// The symbol.
        symbol: String,
        /// Which key.
        detail: String,
    },
    /// A row that cannot be stored (a non-finite value): nothing was written.
    #[error("store {path}: {symbol}: {detail}; nothing written")]
    InvalidRow {
        /// The store file.
        path: PathBuf,
        /// The symbol.
        symbol: String,
        /// What is wrong.
        detail: String,
    },
    /// A read or write failed (disk full, I/O error …).
    #[error("store {path}: {source}")]
    Sql {
        /// The store file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
}

/// One daily close.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DailyClose {
    /// Trading date.
    pub date: NaiveDate,
    /// Closing price (positive, finite).
    pub close: f64,
}

/// What a service must restore to serve exactly what it served before a restart, beside the
/// data: market-svc's estimated parameters per symbol and model (opaque to the store: the
/// service's JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEstimate {
    /// The symbol.
    pub symbol: String,
    /// The model, as the service names it.
    pub model: String,
    /// The service's record (JSON).
    pub state: String,
}

/// The store: one SQLite file, one writer connection (appends are serialised).
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE bars (
    symbol TEXT NOT NULL,
    ts INTEGER NOT NULL,
    open REAL NOT NULL,
    high REAL NOT NULL,
    low REAL NOT NULL,
    close REAL NOT NULL,
    volume REAL NOT NULL,
    PRIMARY KEY (symbol, ts)
) WITHOUT ROWID;
CREATE TABLE estimates (
    symbol TEXT NOT NULL,
    model TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (symbol, model)
) WITHOUT ROWID;
CREATE TABLE closes (
    symbol TEXT NOT NULL,
    date TEXT NOT NULL,
    close REAL NOT NULL,
    PRIMARY KEY (symbol, date)
) WITHOUT ROWID;
";

impl Store {
    /// Opens the store file at `path`, creating it (and its folder) if it does not exist.
    /// Refuses a corrupt file, a foreign one and one of a newer schema (see the crate docs).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
                path: path.clone(),
                source,
            })?;
        }
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        let corrupt = |e: rusqlite::Error| classify(&path, e);
        // The first read of the header: a non-database file fails here (SQLITE_NOTADB).
        let app_id: i64 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(corrupt)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(corrupt)?;
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(corrupt)?;
        let fresh = app_id == 0 && version == 0 && tables == 0;
        if !fresh {
            if app_id != APPLICATION_ID {
                return Err(StoreError::Foreign {
                    path,
                    found: app_id,
                });
            }
            if version > SCHEMA_VERSION {
                return Err(StoreError::NewerVersion {
                    path,
                    found: version,
                });
            }
            let check: String = conn
                .query_row("PRAGMA quick_check", [], |r| r.get(0))
                .map_err(corrupt)?;
            if check != "ok" {
                return Err(StoreError::Corrupt {
                    path,
                    reason: check,
                });
            }
        }
        // WAL: a commit appends to the log and syncs it; FULL: that sync happens on every
        // commit, not only at checkpoints.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(corrupt)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt {
                path,
                reason: format!("cannot switch to WAL mode (journal_mode is {mode})"),
            });
        }
        conn.execute_batch("PRAGMA synchronous = FULL;")
            .map_err(corrupt)?;
        if fresh {
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {SCHEMA} PRAGMA application_id = {APPLICATION_ID}; \
                 PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))
            .map_err(|source| StoreError::Sql {
                path: path.clone(),
                source,
            })?;
        }
        Ok(Self {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |source| StoreError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half-applied: an
        // uncommitted transaction is rolled back when it is dropped.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends `bars` (increasing timestamps, all after the symbol's last stored bar) in one
    /// durable transaction: all of them, or none and an error.
    pub fn append_bars(&self, symbol: &str, bars: &[Bar]) -> Result<(), StoreError> {
        for (i, b) in bars.iter().enumerate() {
            if ![b.open, b.high, b.low, b.close, b.volume]
                .iter()
                .all(|v| v.is_finite())
            {
                return Err(self.invalid(symbol, format!("bar {i} has a non-finite value")));
            }
            if i > 0 && b.timestamp <= bars[i - 1].timestamp {
                return Err(
                    self.out_of_order(symbol, format!("bar {i} is not after bar {}", i - 1))
                );
            }
        }
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(self.sql())?;
        let last: Option<i64> = tx
            .query_row(
                "SELECT max(ts) FROM bars WHERE symbol = ?1",
                [symbol],
                |r| r.get(0),
            )
            .map_err(self.sql())?;
        if let (Some(last), Some(first)) = (last, bars.first())
            && first.timestamp <= last
        {
            return Err(self.out_of_order(
                symbol,
                format!(
                    "bar at {} is not after the last stored bar at {last}",
                    first.timestamp
                ),
            ));
        }
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO bars (symbol, ts, open, high, low, close, volume) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(self.sql())?;
            for b in bars {
                insert
                    .execute(params![
                        symbol,
                        b.timestamp,
                        b.open,
                        b.high,
                        b.low,
                        b.close,
                        b.volume
                    ])
                    .map_err(self.sql())?;
            }
        }
        tx.commit().map_err(self.sql())
    }

    /// Every stored bar, by symbol, in time order.
    pub fn bars(&self) -> Result<BTreeMap<String, Vec<Bar>>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT symbol, ts, open, high, low, close, volume FROM bars ORDER BY symbol, ts",
            )
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Bar {
                        timestamp: r.get(1)?,
                        open: r.get(2)?,
                        high: r.get(3)?,
                        low: r.get(4)?,
                        close: r.get(5)?,
                        volume: r.get(6)?,
                    },
                ))
            })
            .map_err(self.sql())?;
        let mut out: BTreeMap<String, Vec<Bar>> = BTreeMap::new();
        for row in rows {
            let (symbol, bar) = row.map_err(self.sql())?;
            out.entry(symbol).or_default().push(bar);
        }
        Ok(out)
    }

    /// Appends daily `closes` (increasing dates, all after the symbol's last stored date) in
    /// one durable transaction: all of them, or none and an error.
    pub fn append_closes(&self, symbol: &str, closes: &[DailyClose]) -> Result<(), StoreError> {
        self.append_closes_with(symbol, closes, &[])
    }

    /// Replaces (or adds) `estimates` in one durable transaction.
    pub fn put_estimates(&self, estimates: &[StoredEstimate]) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(self.sql())?;
        put_estimates(&tx, estimates).map_err(self.sql())?;
        tx.commit().map_err(self.sql())
    }

    /// Every stored estimate, by symbol and model.
    pub fn estimates(&self) -> Result<Vec<StoredEstimate>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT symbol, model, state FROM estimates ORDER BY symbol, model")
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(StoredEstimate {
                    symbol: r.get(0)?,
                    model: r.get(1)?,
                    state: r.get(2)?,
                })
            })
            .map_err(self.sql())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sql())
    }

    /// [`Store::append_closes`] and [`Store::put_estimates`] in one durable transaction: the
    /// closes and the state computed from them are stored together or not at all.
    pub fn append_closes_with(
        &self,
        symbol: &str,
        closes: &[DailyClose],
        estimates: &[StoredEstimate],
    ) -> Result<(), StoreError> {
        for (i, c) in closes.iter().enumerate() {
            if !(c.close.is_finite() && c.close > 0.0) {
                return Err(self.invalid(symbol, format!("close {i} is not positive and finite")));
            }
            if i > 0 && c.date <= closes[i - 1].date {
                return Err(self.out_of_order(
                    symbol,
                    format!("date {} is not after {}", c.date, closes[i - 1].date),
                ));
            }
        }
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(self.sql())?;
        let last: Option<String> = tx
            .query_row(
                "SELECT max(date) FROM closes WHERE symbol = ?1",
                [symbol],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sql())?
            .flatten();
        if let (Some(last), Some(first)) = (last, closes.first())
            && first.date.to_string() <= last
        {
            return Err(self.out_of_order(
                symbol,
                format!(
                    "date {} is not after the last stored date {last}",
                    first.date
                ),
            ));
        }
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO closes (symbol, date, close) VALUES (?1, ?2, ?3)")
                .map_err(self.sql())?;
            for c in closes {
                insert
                    .execute(params![symbol, c.date.to_string(), c.close])
                    .map_err(self.sql())?;
            }
        }
        put_estimates(&tx, estimates).map_err(self.sql())?;
        tx.commit().map_err(self.sql())
    }

    /// Every stored daily close, by symbol, in date order.
    pub fn closes(&self) -> Result<BTreeMap<String, Vec<DailyClose>>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT symbol, date, close FROM closes ORDER BY symbol, date")
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, f64>(2)?,
                ))
            })
            .map_err(self.sql())?;
        let mut out: BTreeMap<String, Vec<DailyClose>> = BTreeMap::new();
        for row in rows {
            let (symbol, date, close) = row.map_err(self.sql())?;
            let date = date.parse::<NaiveDate>().map_err(|_| StoreError::Corrupt {
                path: self.path.clone(),
                reason: format!("{symbol}: stored date '{date}' is not YYYY-MM-DD"),
            })?;
            out.entry(symbol)
                .or_default()
                .push(DailyClose { date, close });
        }
        Ok(out)
    }

    fn out_of_order(&self, symbol: &str, detail: String) -> StoreError {
        StoreError::OutOfOrder {
            path: self.path.clone(),
            symbol: symbol.to_string(),
            detail,
        }
    }

    fn invalid(&self, symbol: &str, detail: String) -> StoreError {
        StoreError::InvalidRow {
            path: self.path.clone(),
            symbol: symbol.to_string(),
            detail,
        }
    }
}

fn put_estimates(
    tx: &rusqlite::Transaction<'_>,
    estimates: &[StoredEstimate],
) -> rusqlite::Result<()> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO estimates (symbol, model, state) VALUES (?1, ?2, ?3) \
         ON CONFLICT (symbol, model) DO UPDATE SET state = excluded.state",
    )?;
    for e in estimates {
        upsert.execute(params![e.symbol, e.model, e.state])?;
    }
    Ok(())
}

/// A failed read of a file being opened: corruption when SQLite says so, else an I/O error.
fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code() {
        Some(C::NotADatabase | C::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        },
        _ => StoreError::Sql {
            path: path.to_path_buf(),
            source: e,
        },
    }
}

#[cfg(test)]
mod tests;
