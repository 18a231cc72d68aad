//! Invented names and survey comments for the demo centre.

const FIRST: [&str; 20] = [
    "Anna", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hannah", "Ivan", "Jonas", "Katrin",
    "Lukas", "Marta", "Nils", "Olga", "Paul", "Rosa", "Sami", "Tereza", "Yusuf",
];
const LAST: [&str; 17] = [
    "Albers", "Brandt", "Costa", "Demir", "Engel", "Fischer", "Gomes", "Hartmann", "Ilic",
    "Jansen", "Kowalski", "Lange", "Moreira", "Novak", "Oliveira", "Petersen", "Quast",
];

/// A stable invented name for the n-th person (20 × 17 combinations before repeating).
pub fn person_name(n: usize) -> String {
    format!(
        "{} {}",
        FIRST[n % FIRST.len()],
        LAST[(n / FIRST.len() + n * 7) % LAST.len()]
    )
}

/// A free-text survey comment in keeping with the satisfaction answer.
pub fn survey_comment(satisfied: i32, variant: u32) -> &'static str {
    let happy = [
        "Very helpful, thank you.",
        "Quick and friendly.",
        "Sorted in one call.",
        "Clear explanation of my bill.",
    ];
    let neutral = [
        "It was fine.",
        "Took a while but OK.",
        "Answer was partly clear.",
        "Had to repeat my details.",
    ];
    let unhappy = [
        "Waited far too long.",
        "Nobody could answer my question.",
        "I was transferred twice.",
        "Still not resolved.",
    ];
    let list = match satisfied {
        4..=5 => happy,
        3 => neutral,
        _ => unhappy,
    };
    list[variant as usize % list.len()]
}
