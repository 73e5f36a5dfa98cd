use super::*;
use crate::model::{LoadBatch, LoadRow, RowOp, Store, Value};

fn exec(cat: &Catalog, s: &mut Session, sql: &str) -> QueryResult {
    cat.execute(s, sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn rows(cat: &Catalog, s: &mut Session, sql: &str) -> Vec<Vec<Option<String>>> {
    exec(cat, s, sql).rows
}

fn strs(v: &[&str]) -> Vec<Option<String>> {
    v.iter()
        .map(|x| {
            if *x == "NULL" {
                None
            } else {
                Some(x.to_string())
            }
        })
        .collect()
}

fn setup() -> (Arc<Catalog>, Session) {
    let cat = Catalog::open("", None).unwrap();
    let mut s = Session::root();
    exec(&cat, &mut s, "CREATE DATABASE d");
    exec(&cat, &mut s, "USE d");
    (cat, s)
}

fn upsert(values: Vec<Option<Value>>) -> LoadRow {
    LoadRow {
        op: RowOp::Upsert,
        values,
    }
}

#[test]
fn ddl_show_desc_and_errors() {
    let (cat, mut s) = setup();
    exec(&cat, &mut s, "CREATE TABLE t (id BIGINT NOT NULL, v STRING DEFAULT 'x', p DECIMAL64(10, 3)) PRIMARY KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 4 PROPERTIES('replication_num'='1')");
    assert_eq!(rows(&cat, &mut s, "SHOW TABLES"), vec![strs(&["t"])]);
    assert_eq!(
        exec(&cat, &mut s, "SHOW TABLES").columns,
        vec!["Tables_in_d"]
    );
    let desc = exec(&cat, &mut s, "DESC t");
    assert_eq!(
        desc.columns,
        vec!["Field", "Type", "Null", "Key", "Default", "Extra"]
    );
    assert_eq!(
        desc.rows[0],
        strs(&["id", "bigint", "NO", "true", "NULL", ""])
    );
    assert_eq!(
        desc.rows[1],
        strs(&["v", "varchar(65533)", "YES", "false", "x", ""])
    );
    assert_eq!(
        desc.rows[2],
        strs(&["p", "decimal(10,3)", "YES", "false", "NULL", ""])
    );
    assert_eq!(exec(&cat, &mut s, "SHOW COLUMNS FROM d.t").rows, desc.rows);

    let e = cat.execute(&mut s, "CREATE TABLE t (a INT)").unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (1050, "Table 't' already exists")
    );
    exec(&cat, &mut s, "CREATE TABLE IF NOT EXISTS t (a INT)");
    let e = cat.execute(&mut s, "CREATE DATABASE d").unwrap_err();
    assert_eq!(e.code, 1007);
    let e = cat.execute(&mut s, "DESC nope").unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (1051, "Unknown table 'd.nope'")
    );
    let e = cat.execute(&mut s, "USE nope").unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (1049, "Unknown database 'nope'")
    );
    let e = cat
        .execute(&mut s, "ALTER TABLE t ADD ROLLUP r (a)")
        .unwrap_err();
    assert_eq!(e.code, 1064);
    assert!(
        e.message.contains("ALTER TABLE ... ROLLUP") && e.message.contains("not supported"),
        "{}",
        e.message
    );
    let mut fresh = Session::root();
    assert_eq!(
        cat.execute(&mut fresh, "SHOW TABLES").unwrap_err().code,
        1046
    );

    exec(&cat, &mut s, "DROP TABLE t");
    assert!(rows(&cat, &mut s, "SHOW TABLES").is_empty());
    exec(&cat, &mut s, "DROP TABLE IF EXISTS t");
    assert_eq!(cat.execute(&mut s, "DROP TABLE t").unwrap_err().code, 1051);
    exec(&cat, &mut s, "DROP DATABASE d");
    assert_eq!(s.db, None);
    assert!(rows(&cat, &mut s, "SHOW DATABASES").is_empty());
}

#[test]
fn select_renders_like_starrocks() {
    let (cat, mut s) = setup();
    exec(&cat, &mut s, "CREATE TABLE t (id INT, c VARCHAR(10), price DECIMAL(10,2), dt DATETIME, d DATE, f FLOAT, x DOUBLE, b BOOLEAN, big LARGEINT, j JSON) DUPLICATE KEY(id)");
    let schema = cat.table("d", "t").unwrap();
    let batch = LoadBatch {
        rows: vec![
            upsert(vec![
                Some(Value::Int(1)),
                Some(Value::Str("New York".into())),
                Some(Value::Decimal("12.50".into())),
                Some(Value::DateTime(1_704_164_645_000_000)),
                Some(Value::Date(19724)),
                Some(Value::Float(0.1f32 as f64)),
                Some(Value::Float(2.5)),
                Some(Value::Bool(true)),
                Some(Value::Int(170141183460469231731687303715884105727)),
                Some(Value::Json(r#"{"k":[1,2],"a":null}"#.into())),
            ]),
            upsert(vec![
                Some(Value::Int(2)),
                None,
                Some(Value::Decimal("3.00".into())),
                Some(Value::DateTime(1_704_164_645_123_456)),
                None,
                None,
                Some(Value::Float(3.0)),
                Some(Value::Bool(false)),
                Some(Value::Int(-1)),
                None,
            ]),
        ],
        partial_columns: None,
        merge_condition: None,
    };
    assert_eq!(schema.columns.len(), 10);
    assert_eq!(cat.apply("d", "t", batch).unwrap(), 2);
    let r = rows(&cat, &mut s, "SELECT * FROM t ORDER BY id");
    assert_eq!(
        r[0],
        strs(&[
            "1",
            "New York",
            "12.50",
            "2024-01-02 03:04:05",
            "2024-01-02",
            "0.1",
            "2.5",
            "1",
            "170141183460469231731687303715884105727",
            r#"{"a": null, "k": [1, 2]}"#
        ])
    );
    assert_eq!(
        r[1],
        strs(&[
            "2",
            "NULL",
            "3.00",
            "2024-01-02 03:04:05.123456",
            "NULL",
            "NULL",
            "3",
            "0",
            "-1",
            "NULL"
        ])
    );
    let q = exec(
        &cat,
        &mut s,
        "select count(*), SUM(price), min(d), max(dt) as latest from t where price > 1",
    );
    assert_eq!(
        q.columns,
        vec!["count(*)", "SUM(price)", "min(d)", "latest"]
    );
    assert_eq!(
        q.rows,
        vec![strs(&[
            "2",
            "15.50",
            "2024-01-02",
            "2024-01-02 03:04:05.123456"
        ])]
    );
    assert_eq!(
        rows(&cat, &mut s, "SELECT c FROM d.t WHERE c = \"New York\""),
        vec![strs(&["New York"])]
    );
    assert_eq!(
        rows(
            &cat,
            &mut s,
            "SELECT t.id FROM t WHERE dt >= '2024-01-02 03:04:05.1' LIMIT 1"
        ),
        vec![strs(&["2"])]
    );
    assert_eq!(
        rows(
            &cat,
            &mut s,
            "SELECT id, count(*) FROM t GROUP BY id ORDER BY id DESC LIMIT 1"
        ),
        vec![strs(&["2", "1"])]
    );
    assert_eq!(
        rows(&cat, &mut s, "SELECT COUNT(*) FROM t"),
        vec![strs(&["2"])]
    );
    // counting a subquery counts its rows, not its table's (the soak's duplicate check)
    assert_eq!(
        rows(&cat, &mut s, "SELECT COUNT(*) FROM (SELECT id FROM t WHERE id = 2) x"),
        vec![strs(&["1"])]
    );
    assert_eq!(
        rows(&cat, &mut s, "SELECT COUNT(*) FROM (SELECT id FROM t GROUP BY id HAVING COUNT(*) > 1) x"),
        vec![strs(&["0"])]
    );
    // A later load is seen: the mirror catches up by appending.
    let more = LoadBatch {
        rows: vec![upsert(vec![
            Some(Value::Int(3)),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ])],
        partial_columns: None,
        merge_condition: None,
    };
    cat.apply("d", "t", more).unwrap();
    assert_eq!(
        rows(&cat, &mut s, "SELECT count(id) FROM t"),
        vec![strs(&["3"])]
    );
    exec(&cat, &mut s, "TRUNCATE TABLE t");
    assert_eq!(
        rows(&cat, &mut s, "SELECT count(id) FROM t"),
        vec![strs(&["0"])]
    );
    let e = cat.execute(&mut s, "SELECT nope FROM t").unwrap_err();
    assert_eq!(
        e.message,
        "Getting analyzing error. Detail message: Column 'nope' cannot be resolved."
    );
    assert_eq!(
        rows(&cat, &mut s, "SELECT d.t.id FROM d.t"),
        Vec::<Vec<Option<String>>>::new()
    );
}

#[test]
fn wide_decimals_keep_every_digit() {
    let (cat, mut s) = setup();
    exec(&cat, &mut s, "CREATE TABLE w (id INT, d DECIMAL(38, 4))");
    exec(
        &cat,
        &mut s,
        "INSERT INTO w VALUES (1, 1234567890123456789012.5), (2, 12.5), (3, -0.0001)",
    );
    assert_eq!(
        rows(&cat, &mut s, "SELECT d FROM w ORDER BY id"),
        vec![
            strs(&["1234567890123456789012.5000"]),
            strs(&["12.5000"]),
            strs(&["-0.0001"])
        ]
    );
    assert_eq!(
        rows(&cat, &mut s, "SELECT id FROM w WHERE d > 10 AND d < 100"),
        vec![strs(&["2"])]
    );
}

#[test]
fn information_schema_describes_the_catalog() {
    let (cat, mut s) = setup();
    exec(&cat, &mut s, "CREATE TABLE t (id INT NOT NULL, name VARCHAR(20) DEFAULT 'x', p DECIMAL(10,2)) PRIMARY KEY(id)");
    exec(&cat, &mut s, "INSERT INTO t VALUES (1, 'a', 1.5)");
    assert_eq!(
        rows(&cat, &mut s, "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS FROM information_schema.tables WHERE table_schema = 'd'"),
        vec![strs(&["d", "t", "1"])]
    );
    assert_eq!(
        rows(
            &cat,
            &mut s,
            "SELECT column_name, ordinal_position, column_default, is_nullable, data_type, column_type, column_key \
             FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position"
        ),
        vec![
            strs(&["id", "1", "NULL", "NO", "int", "int", "PRI"]),
            strs(&["name", "2", "x", "YES", "varchar", "varchar(20)", ""]),
            strs(&["p", "3", "NULL", "YES", "decimal", "decimal(10,2)", ""]),
        ]
    );
    assert_eq!(
        rows(
            &cat,
            &mut s,
            "SELECT schema_name FROM information_schema.schemata"
        ),
        vec![strs(&["d"])]
    );
    assert_eq!(
        cat.execute(&mut s, "SELECT * FROM information_schema.loads")
            .unwrap_err()
            .code,
        1064
    );
}

#[test]
fn session_variables_and_functions() {
    let (cat, mut s) = setup();
    let q = exec(&cat, &mut s, "select @@version_comment limit 1");
    assert_eq!(q.columns, vec!["@@version_comment"]);
    assert_eq!(q.rows, vec![strs(&["StarRocks version 3.3.0-emulator"])]);
    assert_eq!(
        rows(
            &cat,
            &mut s,
            "SELECT DATABASE(), 1 + 1, @@session.autocommit"
        ),
        vec![strs(&["d", "2", "1"])]
    );
    assert_eq!(cat.execute(&mut s, "SELECT @@nope").unwrap_err().code, 1193);
    // Connector/J's probe at connect.
    let q = exec(
        &cat,
        &mut s,
        "/* mysql-connector-java-8.0.33 */SELECT @@session.auto_increment_increment AS auto_increment_increment, \
         @@character_set_client AS character_set_client, @@character_set_connection AS character_set_connection, \
         @@character_set_results AS character_set_results, @@character_set_server AS character_set_server, \
         @@collation_server AS collation_server, @@collation_connection AS collation_connection, \
         @@init_connect AS init_connect, @@interactive_timeout AS interactive_timeout, @@license AS license, \
         @@lower_case_table_names AS lower_case_table_names, @@max_allowed_packet AS max_allowed_packet, \
         @@net_write_timeout AS net_write_timeout, @@performance_schema AS performance_schema, \
         @@query_cache_size AS query_cache_size, @@query_cache_type AS query_cache_type, @@sql_mode AS sql_mode, \
         @@system_time_zone AS system_time_zone, @@time_zone AS time_zone, \
         @@transaction_isolation AS transaction_isolation, @@wait_timeout AS wait_timeout",
    );
    assert_eq!(q.columns.len(), 21);
    assert_eq!(q.columns[0], "auto_increment_increment");
    assert_eq!(q.rows[0][0].as_deref(), Some("1"));
    assert_eq!(
        rows(&cat, &mut s, "SELECT 1/2, 7 DIV 2, -7 DIV 2, 6/3"),
        vec![strs(&["0.5", "3", "-3", "2"])]
    );
    exec(&cat, &mut s, "SET NAMES utf8mb4");
    exec(&cat, &mut s, "set autocommit=1");
    let v = exec(&cat, &mut s, "SHOW VARIABLES LIKE 'version%'");
    assert_eq!(
        v.rows,
        vec![
            strs(&["version", "8.0.33"]),
            strs(&["version_comment", "StarRocks version 3.3.0-emulator"])
        ]
    );
}

#[test]
fn primary_key_view_after_upserts_and_deletes() {
    let (cat, mut s) = setup();
    exec(
        &cat,
        &mut s,
        "CREATE TABLE p (id INT, v VARCHAR(5)) PRIMARY KEY(id)",
    );
    let row = |id: i128, v: &str| vec![Some(Value::Int(id)), Some(Value::Str(v.into()))];
    let b = |rows| LoadBatch {
        rows,
        partial_columns: None,
        merge_condition: None,
    };
    cat.apply("d", "p", b(vec![upsert(row(1, "a")), upsert(row(2, "b"))]))
        .unwrap();
    assert_eq!(
        rows(&cat, &mut s, "SELECT * FROM p ORDER BY id"),
        vec![strs(&["1", "a"]), strs(&["2", "b"])]
    );
    cat.apply(
        "d",
        "p",
        b(vec![
            upsert(row(1, "z")),
            LoadRow {
                op: RowOp::Delete,
                values: row(2, ""),
            },
            upsert(row(3, "c")),
        ]),
    )
    .unwrap();
    assert_eq!(
        rows(&cat, &mut s, "SELECT * FROM p ORDER BY id"),
        vec![strs(&["1", "z"]), strs(&["3", "c"])]
    );
    exec(&cat, &mut s, "INSERT INTO p VALUES (3, 'd'), (4, 'e')");
    exec(&cat, &mut s, "INSERT INTO p VALUES (0, 'y')");
    // Unordered SELECT on a Primary Key table comes back in key order.
    assert_eq!(
        rows(&cat, &mut s, "SELECT id FROM p"),
        vec![strs(&["0"]), strs(&["1"]), strs(&["3"]), strs(&["4"])]
    );
    exec(&cat, &mut s, "DELETE FROM p WHERE id = 0");
    assert_eq!(
        rows(&cat, &mut s, "SELECT v FROM p ORDER BY id"),
        vec![strs(&["z"]), strs(&["d"]), strs(&["e"])]
    );
    let e = cat
        .execute(&mut s, "INSERT INTO p VALUES (5, 'toolong')")
        .unwrap_err();
    assert!(e.message.contains("too long"), "{}", e.message);
}

#[test]
fn users_grants_and_privileges() {
    let (cat, mut s) = setup();
    exec(&cat, &mut s, "CREATE TABLE t (a INT)");
    exec(&cat, &mut s, "CREATE USER 'u'@'%' IDENTIFIED BY 'pw'");
    exec(
        &cat,
        &mut s,
        "CREATE USER v IDENTIFIED WITH mysql_native_password BY 'pw2'",
    );
    assert_eq!(cat.execute(&mut s, "CREATE USER u").unwrap_err().code, 5022);
    assert!(
        cat.authenticate("u", "pw")
            && !cat.authenticate("u", "x")
            && !cat.authenticate("nobody", "")
    );
    assert!(cat.authenticate("root", "") && cat.authenticate("v", "pw2"));
    assert!(!cat.can_insert("u", "d", "t"));
    exec(&cat, &mut s, "GRANT INSERT ON d.* TO u");
    assert!(cat.can_insert("u", "d", "t") && !cat.can_insert("u", "other", "t"));
    exec(
        &cat,
        &mut s,
        "GRANT INSERT, SELECT ON TABLE d.t TO USER 'v'@'%'",
    );
    assert!(cat.can_insert("v", "d", "t"));
    exec(&cat, &mut s, "REVOKE INSERT ON d.t FROM v");
    assert!(!cat.can_insert("v", "d", "t"));
    let mut us = Session::new("u");
    us.db = Some("d".into());
    let e = cat.execute(&mut us, "SELECT * FROM t").unwrap_err();
    assert!(e.message.contains("SELECT privilege"), "{}", e.message);
    let mut vs = Session::new("v");
    assert_eq!(
        rows(&cat, &mut vs, "SELECT count(*) FROM d.t"),
        vec![strs(&["0"])]
    );
    for ddl in [
        "CREATE DATABASE x",
        "DROP TABLE t",
        "TRUNCATE TABLE t",
        "CREATE TABLE t2 (a INT)",
        "CREATE USER w",
        "GRANT SELECT ON d.* TO v",
    ] {
        let e = cat.execute(&mut us, ddl).unwrap_err();
        assert_eq!(e.code, 1142, "{ddl}: {e}");
    }
    exec(&cat, &mut s, "GRANT ALL ON *.* TO u");
    assert!(cat.can_insert("u", "x", "y"));
    exec(&cat, &mut us, "CREATE TABLE t2 (a INT)");
    exec(&cat, &mut s, "GRANT db_admin TO USER u");
    exec(&cat, &mut us, "CREATE USER w");
    exec(&cat, &mut s, "DROP USER u");
    assert!(!cat.authenticate("u", "pw") && !cat.can_insert("u", "d", "t"));
    assert!(cat.can_insert("root", "any", "thing"));
}

#[test]
fn data_dir_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (id_d, id_e);
    {
        let cat = Catalog::open("", Some(dir.path())).unwrap();
        let mut s = Session::root();
        exec(&cat, &mut s, "CREATE DATABASE d");
        exec(&cat, &mut s, "CREATE DATABASE gone");
        exec(&cat, &mut s, "DROP DATABASE gone");
        exec(&cat, &mut s, "CREATE DATABASE e");
        exec(&cat, &mut s, "USE d");
        exec(
            &cat,
            &mut s,
            "CREATE TABLE p (id INT, v VARCHAR(5)) PRIMARY KEY(id)",
        );
        exec(&cat, &mut s, "CREATE TABLE dup (id INT)");
        exec(&cat, &mut s, "CREATE TABLE dropped (id INT)");
        exec(&cat, &mut s, "CREATE USER u IDENTIFIED BY 'pw'");
        exec(&cat, &mut s, "GRANT INSERT ON d.* TO u");
        exec(&cat, &mut s, "CREATE USER v IDENTIFIED BY 'old'");
        let mut vs = Session::new("v");
        exec(&cat, &mut vs, "SET PASSWORD = PASSWORD('it''s')");
        let row = |id: i128, v: &str| vec![Some(Value::Int(id)), Some(Value::Str(v.into()))];
        let b = |rows| LoadBatch {
            rows,
            partial_columns: None,
            merge_condition: None,
        };
        cat.apply("d", "p", b(vec![upsert(row(1, "a")), upsert(row(2, "b"))]))
            .unwrap();
        cat.apply(
            "d",
            "p",
            b(vec![LoadRow {
                op: RowOp::Delete,
                values: row(1, ""),
            }]),
        )
        .unwrap();
        cat.apply("d", "dup", b(vec![upsert(vec![Some(Value::Int(7))])]))
            .unwrap();
        exec(&cat, &mut s, "TRUNCATE TABLE dup");
        cat.apply("d", "dup", b(vec![upsert(vec![Some(Value::Int(8))])]))
            .unwrap();
        cat.apply("d", "dropped", b(vec![upsert(vec![Some(Value::Int(9))])]))
            .unwrap();
        exec(&cat, &mut s, "DROP TABLE dropped");
        exec(&cat, &mut s, "CREATE TABLE dropped (id INT, x INT)");
        id_d = cat.database_id("d").unwrap();
        id_e = cat.database_id("e").unwrap();
    }
    let cat = Catalog::open("", Some(dir.path())).unwrap();
    let mut s = Session::root();
    exec(&cat, &mut s, "USE d");
    assert_eq!(
        (cat.database_id("d"), cat.database_id("e")),
        (Some(id_d), Some(id_e))
    );
    assert_eq!(
        rows(&cat, &mut s, "SELECT * FROM p"),
        vec![strs(&["2", "b"])]
    );
    assert_eq!(rows(&cat, &mut s, "SELECT * FROM dup"), vec![strs(&["8"])]);
    assert!(rows(&cat, &mut s, "SELECT * FROM dropped").is_empty());
    assert!(cat.authenticate("u", "pw") && cat.can_insert("u", "d", "p"));
    assert!(cat.authenticate("v", "it's"));
    assert_eq!(
        rows(&cat, &mut s, "SHOW DATABASES"),
        vec![strs(&["d"]), strs(&["e"])]
    );
    // Changes after a restart are appended to the same log.
    exec(&cat, &mut s, "INSERT INTO p VALUES (5, 'e'), (6, 'f')");
    exec(&cat, &mut s, "INSERT INTO dup VALUES (9), (10), (11)");
    assert_eq!(
        exec(&cat, &mut s, "DELETE FROM dup WHERE id IN (8, 10)").affected,
        2
    );
    assert_eq!(
        exec(&cat, &mut s, "DELETE FROM p WHERE v = \"f\"").affected,
        1
    );
    drop(cat);
    let cat = Catalog::open("", Some(dir.path())).unwrap();
    let mut s = Session::root();
    assert_eq!(
        rows(&cat, &mut s, "SELECT id FROM d.p ORDER BY id"),
        vec![strs(&["2"]), strs(&["5"])]
    );
}

#[test]
fn loads_queries_and_ddl_run_concurrently_without_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open("", Some(dir.path())).unwrap();
    let mut s = Session::root();
    exec(&cat, &mut s, "CREATE DATABASE d");
    exec(&cat, &mut s, "CREATE TABLE d.dup (id INT, v VARCHAR(10))");
    exec(
        &cat,
        &mut s,
        "CREATE TABLE d.pk (id INT, v VARCHAR(10)) PRIMARY KEY(id)",
    );
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let cat = cat.clone();
            std::thread::spawn(move || {
                let mut s = Session::root();
                for i in 0..50i128 {
                    let row = vec![Some(Value::Int(i % 7)), Some(Value::Str(format!("t{t}")))];
                    let b = LoadBatch {
                        rows: vec![upsert(row)],
                        partial_columns: None,
                        merge_condition: None,
                    };
                    cat.apply("d", "dup", b.clone()).unwrap();
                    cat.apply("d", "pk", b).unwrap();
                    if i % 10 == 0 {
                        exec(&cat, &mut s, "SELECT count(v) FROM d.dup");
                        exec(&cat, &mut s, "SELECT * FROM d.pk");
                        exec(
                            &cat,
                            &mut s,
                            &format!("CREATE TABLE IF NOT EXISTS d.x{t}_{i} (a INT)"),
                        );
                        exec(&cat, &mut s, &format!("DROP TABLE d.x{t}_{i}"));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(
        rows(&cat, &mut s, "SELECT count(v) FROM d.dup"),
        vec![strs(&["200"])]
    );
    assert_eq!(
        rows(&cat, &mut s, "SELECT count(*) FROM d.pk"),
        vec![strs(&["7"])]
    );
    drop(cat);
    let cat = Catalog::open("", Some(dir.path())).unwrap();
    assert_eq!(
        rows(&cat, &mut s, "SELECT count(v) FROM d.dup"),
        vec![strs(&["200"])]
    );
    assert_eq!(
        rows(&cat, &mut s, "SHOW TABLES FROM d"),
        vec![strs(&["dup"]), strs(&["pk"])]
    );
}
