//! The property runner against the embedded mock: every property holds on a
//! faithful mock, and each one is shown to fail against a mock switched into
//! the defect mode that breaks its rule, with a replay command that fails the
//! same way.

use klarna_conformance::mock::{Defect, MockConfig};
use klarna_conformance::runner::{self, Property, RunConfig, RunReport, report};
use klarna_conformance::targets::TargetSpec;

fn config(seed: u64, cases: u64, mock: MockConfig) -> RunConfig {
    let mut config = RunConfig::new(seed, cases);
    config.target = TargetSpec::Mock(mock.seed(seed));
    config
}

fn failures(report: &RunReport) -> Vec<String> {
    report
        .properties
        .iter()
        .filter_map(|p| {
            p.failure
                .as_ref()
                .map(|f| format!("{}: {}", p.property.name(), f.failure))
        })
        .collect()
}

#[test]
fn every_property_holds_against_the_mock_with_a_fixed_seed() {
    let report = runner::run(&config(20261126, 48, MockConfig::default()));
    assert!(report.target_error.is_none(), "{:?}", report.target_error);
    assert_eq!(report.properties.len(), Property::ALL.len());
    assert!(
        failures(&report).is_empty(),
        "{}",
        failures(&report).join("\n")
    );
    assert_eq!(report.exit_code(), 0);
    for p in &report.properties {
        assert_eq!(p.cases, 48, "{}", p.property.name());
    }
}

/// Against the mock, the same seed gives the same requests and the same
/// answers, byte for byte, however the properties are spread over workers.
#[test]
fn the_same_seed_gives_byte_identical_exchanges() {
    let exchanges = |workers: usize| {
        let mut c = config(
            5,
            30,
            MockConfig::default().defect(Defect::MismatchedCorrelationId),
        );
        c.workers = workers;
        runner::run(&c)
            .properties
            .into_iter()
            .map(|p| (p.property, p.failure.map(|f| (f.case_seed, f.exchanges))))
            .collect::<Vec<_>>()
    };
    let one = exchanges(1);
    assert!(one.iter().any(|(_, f)| f.is_some()), "the defect is found");
    assert_eq!(one, exchanges(2));
}

/// Runs `property` against a mock with `defect` until it fails, then replays
/// the printed seed and expects the same failure.
fn shown_to_fail(property: Property, defect: Defect) {
    let mut config = config(99, 200, MockConfig::default().defect(defect));
    config.properties = vec![property];
    let report = runner::run(&config);
    assert!(report.target_error.is_none(), "{:?}", report.target_error);
    let found = report.properties[0].failure.as_ref().unwrap_or_else(|| {
        panic!(
            "{} held against the defect {defect} ({} cases)",
            property.name(),
            report.properties[0].cases
        )
    });
    assert_eq!(report.exit_code(), 1);
    let flag = format!(" --defect {defect}");
    let text = report::render(&report, &flag);
    let command = format!(
        "klarna-conformance replay --property {} --seed {}{flag}",
        property.name(),
        found.case_seed
    );
    assert!(text.contains(&command), "{text}");

    // The replay is exact: the same shrunk case, the same failure, and the
    // same requests and answers byte for byte (ids included).
    let replayed = runner::replay(&config, property, found.case_seed);
    let again = replayed.properties[0]
        .failure
        .as_ref()
        .expect("the replay fails too");
    assert_eq!(again.case_seed, found.case_seed);
    assert_eq!(again.failure, found.failure);
    assert_eq!(again.exchanges, found.exchanges);
}

macro_rules! defect_tests {
    ($($name:ident: $property:ident by $defect:ident,)+) => {
        $(
            #[test]
            fn $name() {
                shown_to_fail(Property::$property, Defect::$defect);
            }
        )+

        /// No property passes against every defect: each is in the table above.
        #[test]
        fn every_property_is_shown_to_fail() {
            let covered = [$(Property::$property),+];
            for p in Property::ALL {
                assert!(covered.contains(&p), "{} has no defect that fails it", p.name());
            }
        }
    };
}

defect_tests! {
    order_succeeds_catches_a_missing_order_id: OrderSucceeds by DropOrderId,
    order_succeeds_catches_a_missing_fraud_status: OrderSucceeds by DropFraudStatus,
    order_succeeds_catches_a_missing_payment_method: OrderSucceeds by DropAuthorizedPaymentMethod,
    order_succeeds_catches_a_wrong_om_amount: OrderSucceeds by OmWrongAmount,
    order_succeeds_catches_ignored_auto_capture: OrderSucceeds by OmNeverCaptured,
    order_succeeds_catches_an_unasked_redirect_url: OrderSucceeds by AlwaysRedirectUrl,
    order_succeeds_catches_a_missing_redirect_url: OrderSucceeds by NeverRedirectUrl,
    changed_data_catches_ignored_address_changes: ChangedDataRefused by IgnoreAddressChanges,
    changed_data_catches_ignored_cart_changes: ChangedDataRefused by IgnoreCartChanges,
    changed_data_catches_ignored_amount_changes: ChangedDataRefused by IgnoreAmountChanges,
    changed_data_catches_a_partial_field_list: ChangedDataRefused by ReportFirstMismatchOnly,
    changed_data_catches_a_missing_item_count_message: ChangedDataRefused by NoItemCountMessage,
    changed_data_catches_a_wrong_status: ChangedDataRefused by WrongStatusForMismatch,
    neutral_change_catches_a_false_refusal: NeutralChangeAccepted by RequireCustomerMatch,
    token_expiry_catches_accepted_expired_tokens: TokenExpiry by AcceptExpiredTokens,
    token_expiry_catches_an_off_by_one_expiry: TokenExpiry by ExpireOneSecondLate,
    unknown_token_catches_a_wrong_status: UnknownToken by UnknownTokenBadRequest,
    replaced_token_catches_accepted_replaced_tokens: ReplacedToken by AcceptReplacedTokens,
    cancelled_token_catches_accepted_cancelled_tokens: CancelledToken by AcceptCancelledTokens,
    retry_idempotent_catches_a_new_order_id: RetryIdempotent by NewOrderIdOnRetry,
    retry_conflict_catches_an_accepted_conflict: RetryConflict by AcceptConflictingRetry,
    inconsistent_amounts_catches_skipped_validation: InconsistentAmounts by SkipAmountValidation,
    denied_catches_an_approved_denial: DeniedNotAuthorized by ApproveDenied,
    pending_catches_never_pending: PendingFraudStatus by NeverPending,
    correlation_catches_a_mismatched_id: ErrorsCarryCorrelationId by MismatchedCorrelationId,
    correlation_catches_empty_messages: ErrorsCarryCorrelationId by EmptyErrorMessages,
    model_catches_a_numeric_order_id: ResponsesMatchModel by NumericOrderId,
}

/// False alarms are what users of API test tools complain about most: many
/// thousands of cases against the faithful mock, and not one failure.
#[test]
fn no_false_alarms_over_thousands_of_cases() {
    let report = runner::run(&config(0x5eed, 360, MockConfig::default()));
    assert!(report.target_error.is_none(), "{:?}", report.target_error);
    assert!(report.cases() >= 5000, "{} cases", report.cases());
    assert!(
        failures(&report).is_empty(),
        "{}",
        failures(&report).join("\n")
    );
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(6))]

    /// Whatever the run seed, the faithful mock passes.
    #[test]
    fn any_run_seed_holds(seed in proptest::num::u64::ANY) {
        let report = runner::run(&config(seed, 6, MockConfig::default()));
        proptest::prop_assert!(report.target_error.is_none());
        proptest::prop_assert!(failures(&report).is_empty(), "{}", failures(&report).join("\n"));
    }
}

/// With Klarna's OpenAPI documents (`--openapi`), every answer of the faithful
/// mock also fits the published schemas: the schema check raises no false alarm.
#[test]
fn every_property_holds_with_the_openapi_schema_check() {
    let mut config = config(11, 24, MockConfig::default());
    for var in ["KLARNA_OPENAPI", "KLARNA_OM_OPENAPI"] {
        // Unset: from_env says so on stderr and the check runs without it.
        if let Some(api) = klarna_conformance::openapi::OpenApi::from_env(var)
            .unwrap_or_else(|e| panic!("{var}: {e}"))
        {
            config.openapi.push(std::sync::Arc::new(api));
        }
    }
    let report = runner::run(&config);
    assert!(report.target_error.is_none(), "{:?}", report.target_error);
    assert!(
        failures(&report).is_empty(),
        "{}",
        failures(&report).join("\n")
    );
}
