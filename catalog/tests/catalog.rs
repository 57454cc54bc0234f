//! The catalog's operations: transactional DDL, names, persistence, conflicts between
//! sessions, and counters that never repeat a value.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use bytedata_catalog::catalog::PUBLIC_SCHEMA;
use bytedata_catalog::descriptor::{
    ColumnDescriptor, IndexDescriptor, KeyColumn, RoleDescriptor, SequenceDescriptor,
    StorageConfig, TableDescriptor,
};
use bytedata_catalog::keycode::Direction;
use bytedata_catalog::{Catalog, CatalogError, Relation, SystemCatalog};
use bytedata_kv::fs::SimFs;
use bytedata_mvcc::{Engine, IsolationLevel, TxnOptions};
use bytedata_pgtypes::DataType;

fn memory_catalog() -> Catalog {
    Catalog::open(
        Engine::open(bytedata_kv::Options::memory()).unwrap(),
        "bytedata",
    )
    .unwrap()
}

fn table(catalog: &Catalog, name: &str) -> TableDescriptor {
    let columns = vec![
        ColumnDescriptor::new(0, "id", DataType::Int8),
        ColumnDescriptor::new(0, "name", DataType::Text),
    ];
    let pkey = (format!("{name}_pkey"), vec![("id".into(), Direction::Asc)]);
    TableDescriptor::new(
        catalog.next_object_id().unwrap(),
        PUBLIC_SCHEMA,
        name,
        "bytedata",
        columns,
        Some(pkey),
    )
    .unwrap()
}

#[test]
fn built_in_schemas_exist_with_postgres_ids() {
    let catalog = memory_catalog();
    let txn = catalog.engine().begin(TxnOptions::default());
    let names: Vec<(String, u32)> = catalog
        .schemas(&txn)
        .unwrap()
        .into_iter()
        .map(|s| (s.name, s.id))
        .collect();
    assert_eq!(
        names,
        [
            ("information_schema".into(), 13_000),
            ("pg_catalog".into(), 11),
            ("public".into(), 2200)
        ]
    );
}

#[test]
fn create_find_alter_and_drop_a_table() {
    let catalog = memory_catalog();
    let txn = catalog.engine().begin(TxnOptions::default());
    let accounts = table(&catalog, "accounts");
    catalog.create_table(&txn, &accounts).unwrap();
    let found = catalog
        .table(&txn, PUBLIC_SCHEMA, "accounts")
        .unwrap()
        .unwrap();
    assert_eq!(found.id, accounts.id);
    assert!(
        accounts.id >= 16_384,
        "user object ids start where PostgreSQL's do"
    );

    let mut altered = found.clone();
    altered.name = "ledger".into();
    altered
        .add_column(ColumnDescriptor::new(0, "balance", DataType::Int8))
        .unwrap();
    altered.indexes.push(IndexDescriptor {
        id: 2,
        oid: catalog.next_object_id().unwrap(),
        name: "ledger_name_idx".into(),
        unique: false,
        columns: vec![KeyColumn {
            column: 2,
            direction: Direction::Asc,
        }],
    });
    catalog.update_table(&txn, &found, &altered).unwrap();
    assert!(
        catalog
            .table(&txn, PUBLIC_SCHEMA, "accounts")
            .unwrap()
            .is_none()
    );
    assert_eq!(
        catalog
            .table(&txn, PUBLIC_SCHEMA, "ledger")
            .unwrap()
            .unwrap()
            .version,
        2
    );
    match catalog
        .relation(&txn, PUBLIC_SCHEMA, "ledger_name_idx")
        .unwrap()
        .unwrap()
    {
        Relation::Index { table, index } => assert_eq!(
            (table.id, index.unwrap().name.as_str()),
            (accounts.id, "ledger_name_idx")
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        catalog
            .relation(&txn, PUBLIC_SCHEMA, "accounts_pkey")
            .unwrap(),
        Some(Relation::Index { index: None, .. })
    ));

    catalog.drop_table(&txn, &altered).unwrap();
    assert!(
        catalog
            .relation(&txn, PUBLIC_SCHEMA, "ledger")
            .unwrap()
            .is_none()
    );
    assert!(
        catalog
            .relation(&txn, PUBLIC_SCHEMA, "ledger_name_idx")
            .unwrap()
            .is_none()
    );
    assert!(catalog.tables(&txn, PUBLIC_SCHEMA).unwrap().is_empty());
}

#[test]
fn a_rolled_back_create_table_leaves_nothing() {
    let catalog = memory_catalog();
    let txn = catalog.engine().begin(TxnOptions::default());
    catalog
        .create_table(&txn, &table(&catalog, "ghost"))
        .unwrap();
    assert!(
        catalog
            .table(&txn, PUBLIC_SCHEMA, "ghost")
            .unwrap()
            .is_some(),
        "seen by its own transaction"
    );
    let other = catalog.engine().begin(TxnOptions::default());
    assert!(
        catalog
            .table(&other, PUBLIC_SCHEMA, "ghost")
            .unwrap()
            .is_none(),
        "not by others"
    );
    txn.rollback().unwrap();
    let after = catalog.engine().begin(TxnOptions::default());
    assert!(
        catalog
            .table(&after, PUBLIC_SCHEMA, "ghost")
            .unwrap()
            .is_none()
    );
    catalog
        .create_table(&after, &table(&catalog, "ghost"))
        .unwrap();
    after.commit().unwrap();
}

#[test]
fn relations_share_one_namespace_per_schema() {
    let catalog = memory_catalog();
    let txn = catalog.engine().begin(TxnOptions::default());
    catalog.create_table(&txn, &table(&catalog, "t")).unwrap();
    let error = catalog
        .create_table(&txn, &table(&catalog, "t"))
        .unwrap_err();
    assert_eq!(
        (error.sqlstate(), error.to_string().as_str()),
        ("42P07", "relation \"t\" already exists")
    );
    // The primary key's index takes a name too.
    let error = catalog
        .create_table(&txn, &table(&catalog, "t_pkey"))
        .unwrap_err();
    assert_eq!(error.sqlstate(), "42P07");
    let sequence = SequenceDescriptor::new(
        catalog.next_object_id().unwrap(),
        PUBLIC_SCHEMA,
        "t",
        "bytedata",
        DataType::Int8,
        1,
    );
    assert_eq!(
        catalog
            .create_sequence(&txn, &sequence)
            .unwrap_err()
            .sqlstate(),
        "42P07"
    );
}

#[test]
fn two_sessions_creating_the_same_table_one_wins_the_other_gets_42p07() {
    for level in [
        IsolationLevel::ReadCommitted,
        IsolationLevel::RepeatableRead,
        IsolationLevel::Serializable,
    ] {
        let catalog = memory_catalog();
        let first = catalog.engine().begin(TxnOptions::isolation(level));
        let second = catalog.engine().begin(TxnOptions::isolation(level));
        catalog
            .create_table(&first, &table(&catalog, "race"))
            .unwrap();
        let second_table = table(&catalog, "race");
        std::thread::scope(|scope| {
            // The second creation waits for the first transaction's claim on the name.
            let loser = scope.spawn(|| catalog.create_table(&second, &second_table));
            first.commit().unwrap();
            let error = loser.join().unwrap().unwrap_err();
            assert!(
                matches!(error, CatalogError::DuplicateRelation(_)),
                "{level:?}: {error}"
            );
            assert_eq!(error.sqlstate(), "42P07");
        });
    }
}

#[test]
fn schemas_must_be_empty_to_drop_unless_cascading() {
    let catalog = memory_catalog();
    let txn = catalog.engine().begin(TxnOptions::default());
    let schema = catalog.create_schema(&txn, "app", "bytedata").unwrap();
    assert_eq!(
        catalog
            .create_schema(&txn, "app", "bytedata")
            .unwrap_err()
            .sqlstate(),
        "42P06"
    );
    let mut t = table(&catalog, "t");
    t.schema_id = schema.id;
    catalog.create_table(&txn, &t).unwrap();
    assert_eq!(
        catalog
            .drop_schema(&txn, "app", false)
            .unwrap_err()
            .sqlstate(),
        "2BP01"
    );
    let dropped = catalog.drop_schema(&txn, "app", true).unwrap();
    assert!(matches!(&dropped[..], [Relation::Table(t)] if t.name == "t"));
    assert!(catalog.schema(&txn, "app").unwrap().is_none());
    assert_eq!(
        catalog
            .drop_schema(&txn, "app", false)
            .unwrap_err()
            .sqlstate(),
        "3F000"
    );
}

#[test]
fn the_catalog_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        Catalog::open(
            Engine::open(bytedata_kv::Options::disk(dir.path())).unwrap(),
            "bytedata",
        )
        .unwrap()
    };
    let (id, ids_before) = {
        let catalog = open();
        let txn = catalog.engine().begin(TxnOptions::default());
        let t = table(&catalog, "kept");
        catalog.create_table(&txn, &t).unwrap();
        txn.commit().unwrap();
        let ids: Vec<u32> = (0..5).map(|_| catalog.next_object_id().unwrap()).collect();
        catalog.engine().store().close().unwrap();
        (t.id, ids)
    };
    let catalog = open();
    let txn = catalog.engine().begin(TxnOptions::default());
    let found = catalog.table(&txn, PUBLIC_SCHEMA, "kept").unwrap().unwrap();
    assert_eq!(found.id, id);
    assert_eq!(
        found
            .visible_columns()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["id", "name"]
    );
    let next = catalog.next_object_id().unwrap();
    assert!(
        ids_before.iter().all(|&old| next > old),
        "object ids are never reused"
    );
}

#[test]
fn sequences_never_repeat_a_value_even_across_crashes() {
    let fs = SimFs::new(9);
    let options = || bytedata_kv::Options::disk("/db");
    let open = |fs: &SimFs| {
        let store = bytedata_kv::Store::open_with_fs(options(), Arc::new(fs.clone())).unwrap();
        Catalog::open(Engine::new(store), "bytedata").unwrap()
    };
    let catalog = open(&fs);
    let txn = catalog.engine().begin(TxnOptions::default());
    let sequence = SequenceDescriptor::new(
        catalog.next_object_id().unwrap(),
        PUBLIC_SCHEMA,
        "s",
        "bytedata",
        DataType::Int8,
        1,
    );
    catalog.create_sequence(&txn, &sequence).unwrap();
    txn.commit().unwrap();
    let mut seen: Vec<i64> = (0..50)
        .map(|_| catalog.nextval(&sequence).unwrap())
        .collect();
    assert_eq!(seen, (1..=50).collect::<Vec<_>>());
    let rows: Vec<i64> = (0..10)
        .map(|_| catalog.next_row_id(sequence.id + 1).unwrap())
        .collect();

    for _ in 0..3 {
        let fs = fs.crash();
        let catalog = open(&fs);
        let next = catalog.nextval(&sequence).unwrap();
        assert!(
            next > *seen.last().unwrap(),
            "{next} repeats a value handed out before the crash"
        );
        assert!(
            next <= seen.last().unwrap() + 33,
            "at most the values logged ahead are skipped"
        );
        seen.push(next);
        assert!(catalog.next_row_id(sequence.id + 1).unwrap() > *rows.last().unwrap());
    }
}

#[test]
fn setval_bounds_and_cycles() {
    let catalog = memory_catalog();
    let mut sequence = SequenceDescriptor::new(
        catalog.next_object_id().unwrap(),
        PUBLIC_SCHEMA,
        "small",
        "bytedata",
        DataType::Int2,
        1,
    );
    sequence.max_value = 3;
    assert_eq!(
        (1..=3)
            .map(|_| catalog.nextval(&sequence).unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let error = catalog.nextval(&sequence).unwrap_err();
    assert_eq!(error.sqlstate(), "2200H");
    assert_eq!(
        error.to_string(),
        "nextval: reached maximum value of sequence \"small\" (3)"
    );
    catalog.setval(&sequence, 1, false).unwrap();
    assert_eq!(
        catalog.nextval(&sequence).unwrap(),
        1,
        "setval(…, false): the value itself comes next"
    );
    catalog.setval(&sequence, 2, true).unwrap();
    assert_eq!(catalog.nextval(&sequence).unwrap(), 3);
    assert!(catalog.setval(&sequence, 9, true).is_err());
    sequence.cycle = true;
    assert_eq!(
        catalog.nextval(&sequence).unwrap(),
        1,
        "a cycling sequence starts over"
    );
}

#[test]
fn databases_and_roles_in_the_system_catalog() {
    let dir = tempfile::tempdir().unwrap();
    {
        let system =
            SystemCatalog::open(Engine::open(bytedata_kv::Options::disk(dir.path())).unwrap());
        let txn = system.engine().begin(TxnOptions::default());
        let memory = StorageConfig {
            mode: "memory".into(),
            ..StorageConfig::default()
        };
        system
            .create_database(&txn, "app", "bytedata", memory)
            .unwrap();
        assert_eq!(
            system
                .create_database(&txn, "app", "bytedata", StorageConfig::default())
                .unwrap_err()
                .sqlstate(),
            "42P04"
        );
        let mut role = RoleDescriptor::new(system.next_object_id().unwrap(), "bytedata");
        role.superuser = true;
        role.login = true;
        system.create_role(&txn, &role).unwrap();
        assert_eq!(
            system.create_role(&txn, &role).unwrap_err().sqlstate(),
            "42710"
        );
        txn.commit().unwrap();
        system.engine().store().close().unwrap();
    }
    let system = SystemCatalog::open(Engine::open(bytedata_kv::Options::disk(dir.path())).unwrap());
    let txn = system.engine().begin(TxnOptions::default());
    assert_eq!(
        system.database(&txn, "app").unwrap().unwrap().storage.mode,
        "memory",
        "storage config survives"
    );
    assert!(system.role(&txn, "bytedata").unwrap().unwrap().superuser);
    assert_eq!(
        system
            .drop_database(&txn, "missing")
            .unwrap_err()
            .sqlstate(),
        "3D000"
    );
    assert_eq!(
        system.drop_role(&txn, "missing").unwrap_err().sqlstate(),
        "42704"
    );
    system.drop_database(&txn, "app").unwrap();
    assert!(system.databases(&txn).unwrap().is_empty());
}

/// Retired storage is reclaimed whole, and a crash at any moment of the reclamation
/// leaves either the marker (the next open finishes the work) or no key at all.
#[test]
fn retired_storage_is_reclaimed_across_crashes_at_any_point() {
    const KEYS: u32 = 20_000;
    let fs = SimFs::new(11);
    let open = |fs: &SimFs| {
        let options = bytedata_kv::Options::disk("/db");
        let store = bytedata_kv::Store::open_with_fs(options, Arc::new(fs.clone())).unwrap();
        Catalog::open(Engine::new(store), "bytedata").unwrap()
    };
    let keys_of = |catalog: &Catalog, storage: u32| {
        let (start, end) = bytedata_catalog::keys::storage_range(storage);
        let view = catalog.engine().store().read_view();
        view.scan(start..end.unwrap()).count()
    };
    let catalog = open(&fs);
    assert_eq!(catalog.wait_reclaimed(), Ok(0));
    let storage = catalog.next_object_id().unwrap();
    let txn = catalog.engine().begin(TxnOptions::default());
    for i in 0..KEYS {
        let mut key = bytedata_catalog::keys::index_prefix(storage, 1).to_vec();
        key.extend_from_slice(&i.to_be_bytes());
        txn.put(key, vec![7u8; 16]).unwrap();
    }
    txn.commit().unwrap();
    // Retired, and nothing woke the reclaimer: a crash now leaves the marker.
    let txn = catalog.engine().begin(TxnOptions::default());
    catalog.retire_storage(&txn, storage).unwrap();
    txn.commit().unwrap();
    assert_eq!(keys_of(&catalog, storage), KEYS as usize);
    drop(catalog);

    // Each round opens the last crash image, whose open wakes the reclaimer, and crashes
    // again wherever the reclaimer has got to: keys only ever go.
    let mut image = fs.crash();
    let mut left = KEYS as usize;
    for _ in 0..8 {
        let reopened = open(&image);
        let now = keys_of(&reopened, storage);
        assert!(now <= left, "{now} keys after a crash, {left} before");
        left = now;
        image = image.crash();
    }
    let last = open(&image);
    assert!(last.wait_reclaimed().is_ok());
    assert_eq!(keys_of(&last, storage), 0, "keys left after crashes");
    let marker = bytedata_catalog::keys::retired_key(storage);
    assert!(last.engine().store().get(&marker).unwrap().is_none());
}
