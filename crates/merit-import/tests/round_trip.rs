//! Writing simulated records in the native format and reading them back
//! gives the same records: the writer and the reader agree on every field.

use merit_import::ImportKind;
use merit_import::native::{self, NativeRecord, NativeWriter};
use merit_sim::{Collected, ScenarioConfig, simulate_centre};

fn write_file(
    dir: &tempfile::TempDir,
    kind: ImportKind,
    fill: impl FnOnce(&mut NativeWriter<Vec<u8>>),
) -> std::path::PathBuf {
    let mut writer = NativeWriter::new(Vec::new(), kind).unwrap();
    fill(&mut writer);
    writer.flush().unwrap();
    let path = dir.path().join(format!("{}.csv", kind.as_str()));
    std::fs::write(&path, writer.into_inner().unwrap()).unwrap();
    path
}

#[test]
fn every_kind_survives_a_round_trip() {
    let config = ScenarioConfig {
        days: 4,
        agents: 20,
        ..ScenarioConfig::default()
    };
    let mut collected = Collected::default();
    let records = simulate_centre(&config, &mut collected);
    let dir = tempfile::tempdir().unwrap();

    let path = write_file(&dir, ImportKind::Contacts, |w| {
        collected
            .contacts
            .iter()
            .for_each(|c| w.contact(c).unwrap())
    });
    let read: Vec<_> = native::open(&path, ImportKind::Contacts)
        .unwrap()
        .map(|r| r.unwrap().1)
        .collect();
    let expected: Vec<_> = collected
        .contacts
        .iter()
        .cloned()
        .map(|c| NativeRecord::Contact(Box::new(c)))
        .collect();
    assert!(collected.contacts.iter().any(|c| c.sale.is_some()));
    assert!(
        collected.contacts.iter().any(|c| !c.holds.is_empty())
            && collected.contacts.iter().any(|c| !c.transfers.is_empty())
    );
    assert_eq!(read, expected);

    let path = write_file(&dir, ImportKind::Surveys, |w| {
        collected.surveys.iter().for_each(|s| w.survey(s).unwrap())
    });
    let read: Vec<_> = native::open(&path, ImportKind::Surveys)
        .unwrap()
        .map(|r| r.unwrap().1)
        .collect();
    let expected: Vec<_> = collected
        .surveys
        .iter()
        .cloned()
        .map(NativeRecord::Survey)
        .collect();
    assert_eq!(read, expected);

    let org = records.organisation.records();
    let path = write_file(&dir, ImportKind::Organisation, |w| {
        org.iter().for_each(|r| w.organisation(r).unwrap())
    });
    let read: Vec<_> = native::open(&path, ImportKind::Organisation)
        .unwrap()
        .map(|r| r.unwrap().1)
        .collect();
    let expected: Vec<_> = org
        .iter()
        .cloned()
        .map(NativeRecord::Organisation)
        .collect();
    assert_eq!(read, expected);

    let path = write_file(&dir, ImportKind::States, |w| {
        records
            .states
            .iter()
            .for_each(|s| w.state("sim", s).unwrap())
    });
    let read: Vec<_> = native::open(&path, ImportKind::States)
        .unwrap()
        .map(|r| r.unwrap().1)
        .collect();
    let expected: Vec<_> = records
        .states
        .iter()
        .cloned()
        .map(|s| NativeRecord::State("sim".into(), s))
        .collect();
    assert_eq!(read, expected);

    let path = write_file(&dir, ImportKind::Schedules, |w| {
        records
            .schedules
            .iter()
            .for_each(|s| w.schedule("sim", s).unwrap())
    });
    assert_eq!(
        native::open(&path, ImportKind::Schedules)
            .unwrap()
            .filter(|r| r.is_ok())
            .count(),
        records.schedules.len()
    );
    let path = write_file(&dir, ImportKind::Absences, |w| {
        records
            .absences
            .iter()
            .for_each(|a| w.absence("sim", a).unwrap())
    });
    assert_eq!(
        native::open(&path, ImportKind::Absences)
            .unwrap()
            .filter(|r| r.is_ok())
            .count(),
        records.absences.len()
    );
}
