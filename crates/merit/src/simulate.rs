//! Writing a simulated centre as native import files, one per kind.

use anyhow::{Context, Result};
use merit_domain::contact::Contact;
use merit_domain::survey::SurveyResponse;
use merit_import::ImportKind;
use merit_import::native::NativeWriter;
use merit_sim::engine::SOURCE_SYSTEM;
use merit_sim::{CentreSink, ScenarioConfig, simulate_centre};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

pub fn file_for(dir: &Path, kind: ImportKind) -> PathBuf {
    dir.join(format!("{}.csv", kind.as_str()))
}

fn writer(dir: &Path, kind: ImportKind) -> Result<NativeWriter<BufWriter<File>>> {
    let path = file_for(dir, kind);
    let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(NativeWriter::new(BufWriter::new(file), kind)?)
}

struct FileSink {
    contacts: NativeWriter<BufWriter<File>>,
    surveys: NativeWriter<BufWriter<File>>,
    n_contacts: u64,
    n_surveys: u64,
    seed: u64,
    sampled_for_quality: Vec<Contact>,
    error: Option<csv::Error>,
}

impl CentreSink for FileSink {
    fn contact(&mut self, contact: Contact) {
        self.n_contacts += 1;
        if merit_sim::quality::sampled_for_quality(&contact, self.seed) {
            self.sampled_for_quality.push(contact.clone());
        }
        if let Err(e) = self.contacts.contact(&contact) {
            self.error.get_or_insert(e);
        }
    }
    fn survey(&mut self, survey: SurveyResponse) {
        self.n_surveys += 1;
        if let Err(e) = self.surveys.survey(&survey) {
            self.error.get_or_insert(e);
        }
    }
}

/// What a simulation wrote, and the calls its QA team evaluates.
pub struct Written {
    pub summary: String,
    pub sampled_for_quality: Vec<Contact>,
}

/// Simulates and writes org, contacts, states, schedules, absences and surveys.
pub fn write_native_files(config: &ScenarioConfig, dir: &Path) -> Result<Written> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut sink = FileSink {
        contacts: writer(dir, ImportKind::Contacts)?,
        surveys: writer(dir, ImportKind::Surveys)?,
        n_contacts: 0,
        n_surveys: 0,
        seed: config.seed,
        sampled_for_quality: Vec::new(),
        error: None,
    };
    let records = simulate_centre(config, &mut sink);
    if let Some(e) = sink.error {
        return Err(e.into());
    }
    sink.contacts.flush()?;
    sink.surveys.flush()?;
    let mut org = writer(dir, ImportKind::Organisation)?;
    for record in records.organisation.records() {
        org.organisation(&record)?;
    }
    org.flush()?;
    let mut states = writer(dir, ImportKind::States)?;
    for s in &records.states {
        states.state(SOURCE_SYSTEM, s)?;
    }
    states.flush()?;
    let mut schedules = writer(dir, ImportKind::Schedules)?;
    for s in &records.schedules {
        schedules.schedule(SOURCE_SYSTEM, s)?;
    }
    schedules.flush()?;
    let mut absences = writer(dir, ImportKind::Absences)?;
    for a in &records.absences {
        absences.absence(SOURCE_SYSTEM, a)?;
    }
    absences.flush()?;
    let summary = format!(
        "wrote {}: {} contacts, {} surveys, {} agent states, {} schedule segments, {} absences, {} agents",
        dir.display(),
        sink.n_contacts,
        sink.n_surveys,
        records.states.len(),
        records.schedules.len(),
        records.absences.len(),
        records.organisation.agents.len()
    );
    Ok(Written {
        summary,
        sampled_for_quality: sink.sampled_for_quality,
    })
}
