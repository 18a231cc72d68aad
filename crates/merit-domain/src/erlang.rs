//! Erlang C (M/M/N) and Erlang A (M/M/N+M, exponential patience) queueing
//! formulas for staffing. Formulas: docs/metrics.md, "Erlang C" and
//! "Erlang A". Numerically stable for thousands of agents: the Erlang B
//! recursion, never factorials or powers.

/// The load on a queue: arrivals per second and mean handle time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    pub arrivals_per_s: f64,
    pub handle_time_s: f64,
}

impl Load {
    /// Load from a count of arrivals in an interval, as forecasts state it.
    pub fn per_interval(arrivals: f64, interval_s: f64, handle_time_s: f64) -> Self {
        Load {
            arrivals_per_s: arrivals / interval_s,
            handle_time_s,
        }
    }

    /// Offered load A in Erlangs = arrival rate × handle time.
    pub fn erlangs(self) -> f64 {
        self.arrivals_per_s * self.handle_time_s
    }
}

/// Erlang B blocking probability by the recursion B(n) = A·B(n−1) ÷ (n + A·B(n−1)).
pub fn erlang_b(agents: u32, erlangs: f64) -> f64 {
    (1..=agents).fold(1.0, |b, n| erlangs * b / (f64::from(n) + erlangs * b))
}

/// Erlang C: figures for `agents` serving `load` with infinitely patient callers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErlangC {
    /// Probability an arrival waits (all agents busy). 1 when the queue is unstable (N ≤ A).
    pub wait_probability: f64,
    /// Average speed of answer in seconds; infinite when unstable.
    pub average_speed_of_answer_s: f64,
    /// A ÷ N, capped at 1.
    pub occupancy: f64,
}

pub fn erlang_c(agents: u32, load: Load) -> ErlangC {
    let a = load.erlangs();
    let n = f64::from(agents);
    if agents == 0 || n <= a {
        return ErlangC {
            wait_probability: 1.0,
            average_speed_of_answer_s: f64::INFINITY,
            occupancy: 1.0,
        };
    }
    let b = erlang_b(agents, a);
    let wait_probability = n * b / (n - a * (1.0 - b));
    ErlangC {
        wait_probability,
        average_speed_of_answer_s: wait_probability * load.handle_time_s / (n - a),
        occupancy: a / n,
    }
}

/// Erlang C service level: the share answered within `threshold_s`,
/// SL(t) = 1 − P(wait)·e^(−(N−A)t ÷ AHT).
pub fn erlang_c_service_level(agents: u32, load: Load, threshold_s: f64) -> f64 {
    let a = load.erlangs();
    let n = f64::from(agents);
    if agents == 0 || n <= a {
        return 0.0;
    }
    let c = erlang_c(agents, load).wait_probability;
    1.0 - c * (-(n - a) * threshold_s / load.handle_time_s).exp()
}

/// The fewest agents whose Erlang C service level at `threshold_s` reaches `target` (0-1).
pub fn agents_for_service_level(load: Load, threshold_s: f64, target: f64) -> u32 {
    if load.arrivals_per_s <= 0.0 {
        return 0;
    }
    let mut agents = load.erlangs().floor() as u32 + 1;
    while erlang_c_service_level(agents, load, threshold_s) < target {
        agents += 1;
    }
    agents
}

/// Agents to schedule so that `required` remain after shrinkage (0-1): required ÷ (1 − shrinkage), rounded up.
pub fn scheduled_agents(required: u32, shrinkage: f64) -> u32 {
    (f64::from(required) / (1.0 - shrinkage) - 1e-9).ceil() as u32
}

/// Erlang A: figures for `agents` serving `load` with callers whose patience
/// is exponential with mean `patience_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErlangA {
    /// Probability an arrival finds every agent busy and has to wait.
    pub wait_probability: f64,
    /// Probability an arrival abandons before being answered.
    pub abandon_probability: f64,
    /// Mean wait of answered contacts, seconds.
    pub average_speed_of_answer_s: f64,
    /// Busy agents ÷ agents.
    pub occupancy: f64,
}

/// The stationary distribution of the number in system, as what it needs:
/// π_N, and the tail terms t_k = π_(N+k) ÷ π_N for k = 1, 2, ...
struct ErlangATail {
    pi_at_agents: f64,
    tail: Vec<f64>,
}

fn erlang_a_tail(agents: u32, load: Load, patience_s: f64) -> ErlangATail {
    let lambda = load.arrivals_per_s;
    let n_mu = f64::from(agents) / load.handle_time_s;
    let theta = 1.0 / patience_s;
    // Σ_(n≤N) π_n ÷ π_N = 1 ÷ B(N, A).
    let below = 1.0 / erlang_b(agents, load.erlangs());
    let mut tail = Vec::new();
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 1.. {
        let ratio = lambda / (n_mu + f64::from(k) * theta);
        term *= ratio;
        tail.push(term);
        sum += term;
        if term < 1e-16 * (below + sum) && ratio < 0.999 {
            break;
        }
    }
    ErlangATail {
        pi_at_agents: 1.0 / (below + sum),
        tail,
    }
}

pub fn erlang_a(agents: u32, load: Load, patience_s: f64) -> ErlangA {
    assert!(patience_s > 0.0, "patience must be positive");
    let n_mu = f64::from(agents) / load.handle_time_s;
    let theta = 1.0 / patience_s;
    let ErlangATail { pi_at_agents, tail } = erlang_a_tail(agents, load, patience_s);
    let waiting_mass: f64 = tail.iter().sum();
    let mean_queue: f64 = tail
        .iter()
        .enumerate()
        .map(|(i, t)| (i + 1) as f64 * t)
        .sum::<f64>()
        * pi_at_agents;
    let wait_probability = pi_at_agents * (1.0 + waiting_mass);
    let abandon_probability = theta * mean_queue / load.arrivals_per_s;
    // An arrival that finds k ahead of it is answered with probability
    // Π_(j=0..k) r_j ÷ (r_j + θ), r_j = Nμ + jθ; given that, it waits Σ 1 ÷ (r_j + θ).
    let mut wait_of_answered = 0.0;
    let mut reach = 1.0;
    let mut expected_wait = 0.0;
    for (k, arrival_share) in std::iter::once(1.0).chain(tail.iter().copied()).enumerate() {
        let r = n_mu + k as f64 * theta;
        reach *= r / (r + theta);
        expected_wait += 1.0 / (r + theta);
        wait_of_answered += pi_at_agents * arrival_share * reach * expected_wait;
    }
    let answered = 1.0 - abandon_probability;
    let busy_agents = load.arrivals_per_s * answered * load.handle_time_s;
    ErlangA {
        wait_probability,
        abandon_probability,
        average_speed_of_answer_s: wait_of_answered / answered,
        occupancy: busy_agents / f64::from(agents),
    }
}

/// Erlang A service level: the share of all arrivals answered within
/// `threshold_s`. The chance that a caller who finds k ahead is answered
/// within t solves u_k' = r_k·(u_(k−1) − u_k) − θ·u_k, u_(−1) = 1, u_k(0) = 0,
/// integrated with fourth-order Runge-Kutta.
pub fn erlang_a_service_level(agents: u32, load: Load, patience_s: f64, threshold_s: f64) -> f64 {
    let n_mu = f64::from(agents) / load.handle_time_s;
    let theta = 1.0 / patience_s;
    let ErlangATail { pi_at_agents, tail } = erlang_a_tail(agents, load, patience_s);
    let no_wait = 1.0 - pi_at_agents * (1.0 + tail.iter().sum::<f64>());
    let states = tail.len() + 1;
    let rates: Vec<f64> = (0..states).map(|k| n_mu + k as f64 * theta).collect();
    let fastest = rates[states - 1] + theta;
    let steps = ((threshold_s * fastest * 4.0).ceil() as usize).max(200);
    let dt = threshold_s / steps as f64;
    let derivative = |u: &[f64], out: &mut [f64]| {
        for k in 0..states {
            let ahead_done = if k == 0 { 1.0 } else { u[k - 1] };
            out[k] = rates[k] * (ahead_done - u[k]) - theta * u[k];
        }
    };
    let mut u = vec![0.0; states];
    let (mut k1, mut k2, mut k3, mut k4) = (
        vec![0.0; states],
        vec![0.0; states],
        vec![0.0; states],
        vec![0.0; states],
    );
    let mut scratch = vec![0.0; states];
    for _ in 0..steps {
        derivative(&u, &mut k1);
        for i in 0..states {
            scratch[i] = u[i] + 0.5 * dt * k1[i];
        }
        derivative(&scratch, &mut k2);
        for i in 0..states {
            scratch[i] = u[i] + 0.5 * dt * k2[i];
        }
        derivative(&scratch, &mut k3);
        for i in 0..states {
            scratch[i] = u[i] + dt * k3[i];
        }
        derivative(&scratch, &mut k4);
        for i in 0..states {
            u[i] += dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
    }
    let answered_within: f64 = std::iter::once(1.0)
        .chain(tail.iter().copied())
        .zip(&u)
        .map(|(share, reached)| pi_at_agents * share * reached)
        .sum();
    no_wait + answered_within
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SPEC.md's published case: 100 calls in 30 min, AHT 180 s, 80 % in 20 s.
    fn published_load() -> Load {
        Load::per_interval(100.0, 1800.0, 180.0)
    }

    #[test]
    fn erlang_c_matches_the_published_case() {
        let load = published_load();
        assert!((load.erlangs() - 10.0).abs() < 1e-12);
        let agents = agents_for_service_level(load, 20.0, 0.80);
        assert_eq!(agents, 14);
        let c = erlang_c(agents, load);
        assert!((c.wait_probability - 0.1741319).abs() < 5e-8, "{c:?}");
        assert!((erlang_c_service_level(agents, load, 20.0) - 0.8883500).abs() < 5e-8);
        assert!((c.average_speed_of_answer_s - 7.8359).abs() < 5e-5);
        assert!((c.occupancy - 0.7143).abs() < 5e-5);
        assert_eq!(scheduled_agents(agents, 0.30), 20);
    }

    #[test]
    fn erlang_b_recursion_matches_the_closed_form_for_small_cases() {
        // B(2, 1) = (1/2) ÷ (1 + 1 + 1/2) = 0.2; B(3, 2) = (8/6) ÷ (1 + 2 + 2 + 8/6) = 4/19.
        for (agents, erlangs, expect) in [(2, 1.0, 0.2), (3, 2.0, 4.0 / 19.0), (1, 3.0, 0.75)] {
            assert!((erlang_b(agents, erlangs) - expect).abs() < 1e-12);
        }
    }

    #[test]
    fn stable_for_thousands_of_agents() {
        let load = Load::per_interval(4_500.0 * 6.0, 3600.0, 600.0); // 4,500 Erlangs
        let agents = agents_for_service_level(load, 20.0, 0.8);
        assert!((4_501..5_000).contains(&agents), "{agents}");
        let c = erlang_c(5_000, load);
        assert!(c.wait_probability.is_finite() && c.wait_probability >= 0.0);
        let a = erlang_a(5_000, load, 120.0);
        assert!(a.wait_probability.is_finite() && a.abandon_probability.is_finite());
    }

    /// P(X = n) for X ~ Poisson(mean), by the recursion p_n = p_(n−1)·mean ÷ n.
    fn poisson_pmf(mean: f64, up_to: usize) -> Vec<f64> {
        let mut p = vec![(-mean).exp()];
        for n in 1..=up_to {
            p.push(p[n - 1] * mean / n as f64);
        }
        p
    }

    #[test]
    fn erlang_a_with_patience_equal_to_handle_time_is_poisson() {
        for (agents, arrivals, handle_time_s) in
            [(14, 100.0, 180.0), (5, 20.0, 300.0), (30, 400.0, 120.0)]
        {
            let load = Load::per_interval(arrivals, 1800.0, handle_time_s);
            let a = load.erlangs();
            let pmf = poisson_pmf(a, 400);
            let wait: f64 = pmf[agents as usize..].iter().sum();
            let excess: f64 = pmf
                .iter()
                .enumerate()
                .skip(agents as usize)
                .map(|(n, p)| (n - agents as usize) as f64 * p)
                .sum();
            let figures = erlang_a(agents, load, handle_time_s);
            assert!(
                (figures.wait_probability - wait).abs() < 1e-9,
                "{figures:?} vs {wait}"
            );
            assert!((figures.abandon_probability - excess / a).abs() < 1e-9);
        }
    }

    #[test]
    fn erlang_a_tends_to_erlang_c_as_patience_grows() {
        let load = published_load();
        let patient = erlang_a(14, load, 1e9);
        let c = erlang_c(14, load);
        assert!((patient.wait_probability - c.wait_probability).abs() < 1e-5);
        assert!((patient.average_speed_of_answer_s - c.average_speed_of_answer_s).abs() < 1e-3);
        let sl = erlang_a_service_level(14, load, 1e9, 20.0);
        assert!((sl - 0.8883500).abs() < 1e-5, "{sl}");
    }

    #[test]
    fn more_agents_raise_service_level_and_cut_waits() {
        let load = Load::per_interval(250.0, 1800.0, 240.0);
        let mut previous: Option<(f64, f64, f64)> = None;
        for agents in 34..60 {
            let c = erlang_c(agents, load);
            let sl = erlang_c_service_level(agents, load, 20.0);
            let a = erlang_a(agents, load, 90.0);
            assert!(
                a.wait_probability <= c.wait_probability,
                "Erlang A waits less"
            );
            assert!(a.average_speed_of_answer_s <= c.average_speed_of_answer_s);
            if let Some((previous_sl, previous_asa, previous_abandon)) = previous {
                assert!(sl > previous_sl && c.average_speed_of_answer_s < previous_asa);
                assert!(a.abandon_probability < previous_abandon);
            }
            previous = Some((sl, c.average_speed_of_answer_s, a.abandon_probability));
        }
    }

    #[test]
    fn an_overloaded_queue_is_reported_as_such() {
        let load = Load::per_interval(100.0, 1800.0, 180.0);
        let c = erlang_c(10, load);
        assert_eq!(c.wait_probability, 1.0);
        assert!(c.average_speed_of_answer_s.is_infinite());
        assert_eq!(erlang_c_service_level(9, load, 20.0), 0.0);
        // With abandonment the queue stays stable even below A agents.
        let a = erlang_a(9, load, 60.0);
        assert!(a.abandon_probability > 0.05 && a.abandon_probability < 1.0);
    }

    proptest::proptest! {
        #[test]
        fn service_level_rises_and_waits_fall_with_agents(
            arrivals in 1.0f64..600.0,
            handle_time_s in 30.0f64..900.0,
            extra in 1u32..30,
            patience_s in 10.0f64..600.0,
        ) {
            let load = Load::per_interval(arrivals, 1800.0, handle_time_s);
            let agents = load.erlangs().floor() as u32 + extra;
            let (fewer, more) = (erlang_c(agents, load), erlang_c(agents + 1, load));
            proptest::prop_assert!(erlang_c_service_level(agents + 1, load, 20.0) >= erlang_c_service_level(agents, load, 20.0));
            proptest::prop_assert!(more.average_speed_of_answer_s <= fewer.average_speed_of_answer_s);
            let with_patience = erlang_a(agents, load, patience_s);
            proptest::prop_assert!(with_patience.wait_probability <= fewer.wait_probability + 1e-12);
            proptest::prop_assert!(erlang_a(agents + 1, load, patience_s).abandon_probability <= with_patience.abandon_probability + 1e-12);
        }
    }
}
