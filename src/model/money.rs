//! Klarna's arithmetic on minor units (docs/klarna.md §3.1): pure and total.
//!
//! Every amount is an `i64` of minor units ("USD 1000 = $10"), every tax rate
//! an `i64` of basis points ("2500 = 25 %"). The functions here never panic and
//! never overflow: intermediate products are computed in `i128`, and a result
//! that does not fit an `i64` (or an input outside Klarna's domain, such as a
//! tax rate outside `0..=10000`) gives `None` / an `Err`, never a wrapped value.
//!
//! Two ways of carrying tax exist (docs/klarna.md §3.1):
//!
//! - **global** (EU/UK/...): each line carries `tax_rate` and `total_tax_amount`,
//!   `total_tax_amount` is within ±1 of `total_amount × tax_rate / (10000 + tax_rate)`
//!   and `order_tax_amount` is the sum of line taxes within ± the number of lines.
//! - **US style**: no line has a `tax_rate`; tax is one separate line of type
//!   `sales_tax`, and `order_tax_amount` is that line's `total_amount`.
//!
//! Generators and scenarios build lines with [`LineBuilder`] / [`OrderLine::priced`]
//! and carts with [`Cart::global`] / [`Cart::us_style`], so nobody computes tax by hand.
//!
//! ```
//! use klarna_conformance::model::money::{line_tax, Cart};
//! use klarna_conformance::model::{OrderLine, OrderLineType};
//!
//! // Klarna's worked example: unit 10000, discount 500, rate 25 % -> total 9500, tax 1900.
//! let shoe = OrderLine::builder("Running shoe")
//!     .unit_price(10000)
//!     .total_discount_amount(500)
//!     .tax_rate(2500)
//!     .build()
//!     .unwrap();
//! assert_eq!((shoe.total_amount, shoe.total_tax_amount), (9500, Some(1900)));
//! assert_eq!(line_tax(-300, 1000), Some(-27)); // a gift card line
//!
//! let cart = Cart::global(vec![shoe]).unwrap();
//! assert_eq!((cart.order_amount, cart.order_tax_amount), (9500, 1900));
//! ```

use super::{OrderLine, OrderLineType};

/// `tax_rate` has two implicit decimals: 10000 basis points are 100 %.
pub const TAX_RATE_SCALE: i64 = 10_000;

/// Largest `unit_price` and `total_amount` of a line (SPEC24: 200000000; SPEC23
/// said 100000000, the newer document wins).
pub const MAX_LINE_AMOUNT: i64 = 200_000_000;

/// `order_lines` holds 1 to 1000 lines (docs/klarna.md §2.1).
pub const MAX_ORDER_LINES: usize = 1000;

/// `quantity × unit_price − total_discount_amount` (docs/klarna.md §3.1);
/// `None` when the result does not fit an `i64`.
pub fn line_total(quantity: i64, unit_price: i64, total_discount_amount: i64) -> Option<i64> {
    let total = i128::from(quantity) * i128::from(unit_price) - i128::from(total_discount_amount);
    i64::try_from(total).ok()
}

/// The tax contained in a tax-inclusive `total_amount` at `tax_rate`:
/// `total_amount × tax_rate / (10000 + tax_rate)`, which is exactly Klarna's
/// `total_amount − total_amount × 10000 / (10000 + tax_rate)`, rounded to the
/// nearest minor unit, halves away from zero.
///
/// Rounding to nearest keeps the value within ½ of the exact tax, so it passes
/// Klarna's ±1 check whatever rounding Klarna itself applies, and rounding
/// symmetrically makes a negative line's tax the mirror of the positive one.
/// It reproduces every worked example of Klarna's documents: 9500 at 25 % → 1900,
/// 25000 at 25 % → 5000, the gift card −300 at 10 % → −27.
///
/// `None` when `tax_rate` is outside Klarna's `0..=10000`.
pub fn line_tax(total_amount: i64, tax_rate: i64) -> Option<i64> {
    let (n, d) = tax_fraction(total_amount, tax_rate)?;
    // |tax| <= |total_amount| because tax_rate <= 10000 + tax_rate: always fits.
    i64::try_from(round_half_away(n, d)).ok()
}

/// `n / d` rounded to the nearest integer, halves away from zero (`d > 0`):
/// the one rounding rule of this module, so negative amounts mirror positive ones.
fn round_half_away(n: i128, d: i128) -> i128 {
    let magnitude = (2 * n.abs() + d) / (2 * d);
    if n < 0 { -magnitude } else { magnitude }
}

/// The exact tax as a fraction `n / d` with `d > 0`.
fn tax_fraction(total_amount: i64, tax_rate: i64) -> Option<(i128, i128)> {
    if !(0..=TAX_RATE_SCALE).contains(&tax_rate) {
        return None;
    }
    let n = i128::from(total_amount) * i128::from(tax_rate);
    let d = i128::from(TAX_RATE_SCALE + tax_rate);
    Some((n, d))
}

/// How a line's `total_tax_amount` compares with Klarna's formula (docs/klarna.md §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineTaxCheck {
    /// Within ±1 of the exact tax `total_amount × tax_rate / (10000 + tax_rate)`.
    Within,
    /// More than 1 from the exact tax, but within 1 of its floor or its ceiling.
    /// Klarna compares with an integer "calculated value" (docs/klarna.md §10) whose
    /// rounding it does not document; a value here passes under some rounding
    /// Klarna may use, so it is graded a warning, never an error.
    Borderline,
    /// More than 1 from every integer Klarna could have calculated: refused.
    Outside,
}

/// Judges `total_tax_amount` against `total_amount` and `tax_rate`;
/// `None` when `tax_rate` is outside `0..=10000` (that is its own violation).
pub fn check_line_tax(
    total_tax_amount: i64,
    total_amount: i64,
    tax_rate: i64,
) -> Option<LineTaxCheck> {
    let (n, d) = tax_fraction(total_amount, tax_rate)?;
    let given = i128::from(total_tax_amount);
    if (given * d - n).abs() <= d {
        return Some(LineTaxCheck::Within);
    }
    let floor = n.div_euclid(d);
    let ceil = floor + i128::from(n.rem_euclid(d) != 0);
    Some(if floor - 1 <= given && given <= ceil + 1 {
        LineTaxCheck::Borderline
    } else {
        LineTaxCheck::Outside
    })
}

/// The numbers behind [`check_line_tax`], for explaining its verdict: the
/// exact tax and the values graded [`LineTaxCheck::Within`] and
/// [`LineTaxCheck::Borderline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTaxTolerance {
    /// The exact tax is `numerator / denominator` (`denominator > 0`):
    /// `total_amount × tax_rate / (10000 + tax_rate)`.
    pub numerator: i128,
    pub denominator: i128,
    /// The exact tax rounded down and up (equal when it is an integer).
    pub floor: i64,
    pub ceil: i64,
}

impl LineTaxTolerance {
    /// The values within ±1 of the exact tax: graded [`LineTaxCheck::Within`].
    pub fn within(&self) -> std::ops::RangeInclusive<i64> {
        self.ceil - 1..=self.floor + 1
    }

    /// The values within 1 of the floor or the ceiling: graded
    /// [`LineTaxCheck::Within`] or [`LineTaxCheck::Borderline`], never refused.
    pub fn not_refused(&self) -> std::ops::RangeInclusive<i64> {
        self.floor - 1..=self.ceil + 1
    }

    /// The exact tax in hundredths of a minor unit, rounded half away from zero.
    pub fn hundredths(&self) -> i128 {
        round_half_away(self.numerator * 100, self.denominator)
    }

    /// Whether [`Self::hundredths`] is the exact tax, not a rounding of it.
    pub fn hundredths_exact(&self) -> bool {
        (self.numerator * 100) % self.denominator == 0
    }
}

/// The tolerance [`check_line_tax`] applies to a line of `total_amount` at
/// `tax_rate`; `None` when `tax_rate` is outside `0..=10000`.
pub fn line_tax_tolerance(total_amount: i64, tax_rate: i64) -> Option<LineTaxTolerance> {
    let (n, d) = tax_fraction(total_amount, tax_rate)?;
    let floor = n.div_euclid(d);
    let ceil = floor + i128::from(n.rem_euclid(d) != 0);
    // |tax| <= |total_amount| / 2 (tax_rate <= 10000), so these and ±1 fit an i64.
    Some(LineTaxTolerance {
        numerator: n,
        denominator: d,
        floor: i64::try_from(floor).ok()?,
        ceil: i64::try_from(ceil).ok()?,
    })
}

/// `order_amount`: the sum of the lines' `total_amount`; `None` on overflow.
pub fn order_amount<I: IntoIterator<Item = i64>>(line_totals: I) -> Option<i64> {
    line_totals.into_iter().try_fold(0i64, i64::checked_add)
}

/// What a line contributes to `order_tax_amount`: a `sales_tax` line (US style)
/// contributes its `total_amount`, every other line its `total_tax_amount`
/// (absent counts as 0). One formula covers both styles (docs/klarna.md §3.1).
pub fn line_tax_contribution(line: &OrderLine) -> i64 {
    tax_contribution(
        line.line_type.as_ref(),
        line.total_amount,
        line.total_tax_amount,
    )
}

/// [`line_tax_contribution`] on raw fields, for callers that hold JSON.
pub fn tax_contribution(
    line_type: Option<&OrderLineType>,
    total_amount: i64,
    total_tax_amount: Option<i64>,
) -> i64 {
    if line_type == Some(&OrderLineType::SalesTax) {
        total_amount
    } else {
        total_tax_amount.unwrap_or(0)
    }
}

/// The expected `order_tax_amount` of a cart; `None` on overflow.
pub fn order_tax_amount<'a, I: IntoIterator<Item = &'a OrderLine>>(lines: I) -> Option<i64> {
    lines
        .into_iter()
        .map(line_tax_contribution)
        .try_fold(0i64, i64::checked_add)
}

/// Whether `order_tax_amount` is within ± `line_count` of `expected`
/// (Klarna's order-level tolerance, docs/klarna.md §3.1: "± the number of items").
pub fn order_tax_within(order_tax_amount: i64, expected: i64, line_count: usize) -> bool {
    let tolerance = i128::try_from(line_count).unwrap_or(i128::MAX);
    (i128::from(order_tax_amount) - i128::from(expected)).abs() <= tolerance
}

/// US sales tax on a pre-tax amount: `amount × rate / 10000`, rounded to the
/// nearest minor unit, halves away from zero. `None` when `sales_tax_rate_bp`
/// is outside `0..=10000`.
pub fn sales_tax(amount: i64, sales_tax_rate_bp: i64) -> Option<i64> {
    if !(0..=TAX_RATE_SCALE).contains(&sales_tax_rate_bp) {
        return None;
    }
    let n = i128::from(amount) * i128::from(sales_tax_rate_bp);
    i64::try_from(round_half_away(n, i128::from(TAX_RATE_SCALE))).ok()
}

/// Why a line or cart cannot be built consistently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("an amount does not fit in 64 bits")]
    Overflow,
    #[error("tax_rate {0} is outside 0..=10000")]
    TaxRate(i64),
    #[error("quantity {0} is negative")]
    NegativeQuantity(i64),
    #[error("total_discount_amount {0} is negative")]
    NegativeDiscount(i64),
    #[error("{field} {value} is above Klarna's maximum of 200000000")]
    AboveMaximum { field: &'static str, value: i64 },
    #[error("a cart needs 1 to 1000 order lines, not {0}")]
    LineCount(usize),
    #[error("{field} {value} is negative")]
    Negative { field: &'static str, value: i64 },
}

/// Builds one consistent [`OrderLine`]: `total_amount` and `total_tax_amount`
/// are computed, never given. Defaults: quantity 1, no discount, no tax rate
/// (then no tax fields are sent, as US-style lines do), type left out.
#[derive(Debug, Clone)]
pub struct LineBuilder {
    line: OrderLine,
    total_discount_amount: Option<i64>,
}

impl LineBuilder {
    pub fn line_type(mut self, line_type: OrderLineType) -> Self {
        self.line.line_type = Some(line_type);
        self
    }
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.line.reference = Some(reference.into());
        self
    }
    pub fn quantity(mut self, quantity: i64) -> Self {
        self.line.quantity = quantity;
        self
    }
    /// Tax-inclusive price of one unit, before discount.
    pub fn unit_price(mut self, unit_price: i64) -> Self {
        self.line.unit_price = unit_price;
        self
    }
    /// Tax-inclusive discount on the whole line (non-negative).
    pub fn total_discount_amount(mut self, amount: i64) -> Self {
        self.total_discount_amount = Some(amount);
        self
    }
    /// Basis points, 0..=10000; sets `tax_rate` and a computed `total_tax_amount`.
    pub fn tax_rate(mut self, tax_rate: i64) -> Self {
        self.line.tax_rate = Some(tax_rate);
        self
    }

    /// The line, or why it cannot satisfy Klarna's line rules.
    pub fn build(self) -> Result<OrderLine, MoneyError> {
        let mut line = self.line;
        line.total_discount_amount = self.total_discount_amount;
        line.reprice()?;
        Ok(line)
    }
}

impl OrderLine {
    /// A line builder for `name` (quantity 1, price 0 until set).
    pub fn builder(name: impl Into<String>) -> LineBuilder {
        LineBuilder {
            line: OrderLine {
                name: name.into(),
                quantity: 1,
                ..OrderLine::default()
            },
            total_discount_amount: None,
        }
    }

    /// A `physical` line with global-style tax: `quantity` units at `unit_price`
    /// (tax included) taxed at `tax_rate` basis points.
    pub fn priced(
        name: impl Into<String>,
        quantity: i64,
        unit_price: i64,
        tax_rate: i64,
    ) -> Result<OrderLine, MoneyError> {
        OrderLine::builder(name)
            .line_type(OrderLineType::Physical)
            .quantity(quantity)
            .unit_price(unit_price)
            .tax_rate(tax_rate)
            .build()
    }

    /// A reduction line (`discount`, `gift_card`, `store_credit`): one unit of
    /// `-amount`, with negative tax when `tax_rate` is given (docs/klarna.md §3.1,
    /// e.g. a gift card of 300 at 10 % is `-300` with tax `-27`).
    pub fn reduction(
        line_type: OrderLineType,
        name: impl Into<String>,
        amount: i64,
        tax_rate: Option<i64>,
    ) -> Result<OrderLine, MoneyError> {
        let negated = amount.checked_neg().ok_or(MoneyError::Overflow)?;
        let mut b = OrderLine::builder(name)
            .line_type(line_type)
            .unit_price(negated);
        if let Some(rate) = tax_rate {
            b = b.tax_rate(rate);
        }
        b.build()
    }

    /// Recomputes `total_amount` and `total_tax_amount` from `quantity`,
    /// `unit_price`, `total_discount_amount` and `tax_rate` (no rate: no tax
    /// field), after checking the line stays within Klarna's ranges.
    pub fn reprice(&mut self) -> Result<(), MoneyError> {
        if self.quantity < 0 {
            return Err(MoneyError::NegativeQuantity(self.quantity));
        }
        let discount = self.total_discount_amount.unwrap_or(0);
        if discount < 0 {
            return Err(MoneyError::NegativeDiscount(discount));
        }
        if self.unit_price > MAX_LINE_AMOUNT {
            return Err(MoneyError::AboveMaximum {
                field: "unit_price",
                value: self.unit_price,
            });
        }
        let total =
            line_total(self.quantity, self.unit_price, discount).ok_or(MoneyError::Overflow)?;
        if total > MAX_LINE_AMOUNT {
            return Err(MoneyError::AboveMaximum {
                field: "total_amount",
                value: total,
            });
        }
        self.total_amount = total;
        self.total_tax_amount = match self.tax_rate {
            Some(rate) => Some(line_tax(total, rate).ok_or(MoneyError::TaxRate(rate))?),
            None => None,
        };
        Ok(())
    }
}

/// A consistent cart: the three fields Klarna checks against each other.
#[derive(Debug, Clone, PartialEq)]
pub struct Cart {
    pub order_lines: Vec<OrderLine>,
    pub order_amount: i64,
    pub order_tax_amount: i64,
}

impl Cart {
    /// Global style: lines keep their own `tax_rate`/`total_tax_amount`;
    /// `order_amount` and `order_tax_amount` are their exact sums. Lines are
    /// taken as they are (build them with [`LineBuilder`]); a line that is not
    /// consistent is repriced.
    pub fn global(mut order_lines: Vec<OrderLine>) -> Result<Cart, MoneyError> {
        check_line_count(order_lines.len())?;
        for line in &mut order_lines {
            line.reprice()?;
        }
        Cart::summed(order_lines)
    }

    /// US style (docs/klarna.md §3.1): every line loses its `tax_rate` and
    /// `total_tax_amount`, and one line `{"type": "sales_tax", "name": "Sales Tax"}`
    /// carrying `sales_tax_rate_bp` of the pre-tax total is appended;
    /// `order_tax_amount` is that line's `total_amount`.
    pub fn us_style(
        mut order_lines: Vec<OrderLine>,
        sales_tax_rate_bp: i64,
    ) -> Result<Cart, MoneyError> {
        check_line_count(order_lines.len().saturating_add(1))?;
        for line in &mut order_lines {
            line.tax_rate = None;
            line.reprice()?;
        }
        let pre_tax =
            order_amount(order_lines.iter().map(|l| l.total_amount)).ok_or(MoneyError::Overflow)?;
        let tax =
            sales_tax(pre_tax, sales_tax_rate_bp).ok_or(MoneyError::TaxRate(sales_tax_rate_bp))?;
        let tax_line = OrderLine::builder("Sales Tax")
            .line_type(OrderLineType::SalesTax)
            .unit_price(tax)
            .build()?;
        order_lines.push(tax_line);
        Cart::summed(order_lines)
    }

    fn summed(order_lines: Vec<OrderLine>) -> Result<Cart, MoneyError> {
        let amount =
            order_amount(order_lines.iter().map(|l| l.total_amount)).ok_or(MoneyError::Overflow)?;
        let tax = order_tax_amount(&order_lines).ok_or(MoneyError::Overflow)?;
        for (field, value) in [("order_amount", amount), ("order_tax_amount", tax)] {
            if value < 0 {
                return Err(MoneyError::Negative { field, value });
            }
        }
        Ok(Cart {
            order_lines,
            order_amount: amount,
            order_tax_amount: tax,
        })
    }

    /// Writes the cart's three fields into a request body (a JSON object),
    /// replacing what was there; anything else in the body is left alone.
    pub fn write_into(&self, body: &mut serde_json::Value) {
        if let Some(obj) = body.as_object_mut() {
            obj.insert("order_amount".into(), self.order_amount.into());
            obj.insert("order_tax_amount".into(), self.order_tax_amount.into());
            obj.insert(
                "order_lines".into(),
                serde_json::to_value(&self.order_lines).unwrap_or_default(),
            );
        }
    }
}

fn check_line_count(count: usize) -> Result<(), MoneyError> {
    if (1..=MAX_ORDER_LINES).contains(&count) {
        Ok(())
    } else {
        Err(MoneyError::LineCount(count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn klarna_worked_examples() {
        // DOCS step-1: unit 10000, discount 500, total 9500, rate 2500, tax 1900.
        assert_eq!(line_total(1, 10000, 500), Some(9500));
        assert_eq!(line_tax(9500, 2500), Some(1900));
        // DOCS discounts: t-shirt unit 30000, discount 5000, total 25000, tax 5000.
        assert_eq!(line_total(1, 30000, 5000), Some(25000));
        assert_eq!(line_tax(25000, 2500), Some(5000));
        // DOCS discounts: gift card -300 at 10 % -> -27.
        assert_eq!(line_tax(-300, 1000), Some(-27));
        assert_eq!(check_line_tax(-27, -300, 1000), Some(LineTaxCheck::Within));
        // DOCS tax-handling: (9917 + 483) - 2 <= 10400 <= (9917 + 483) + 2.
        assert!(order_tax_within(10400, 9917 + 483, 2));
        assert!(order_tax_within(10402, 10400, 2));
        assert!(!order_tax_within(10403, 10400, 2));
    }

    #[test]
    fn tax_tolerance_grades() {
        // exact 27.27...: 26..=29 is within 1 of floor 27 or ceil 28.
        assert_eq!(check_line_tax(27, 300, 1000), Some(LineTaxCheck::Within));
        assert_eq!(check_line_tax(28, 300, 1000), Some(LineTaxCheck::Within));
        assert_eq!(
            check_line_tax(26, 300, 1000),
            Some(LineTaxCheck::Borderline)
        );
        assert_eq!(
            check_line_tax(29, 300, 1000),
            Some(LineTaxCheck::Borderline)
        );
        assert_eq!(check_line_tax(25, 300, 1000), Some(LineTaxCheck::Outside));
        assert_eq!(check_line_tax(30, 300, 1000), Some(LineTaxCheck::Outside));
        // exact integer 1900: only 1899..=1901.
        assert_eq!(check_line_tax(1901, 9500, 2500), Some(LineTaxCheck::Within));
        assert_eq!(
            check_line_tax(1902, 9500, 2500),
            Some(LineTaxCheck::Outside)
        );
        assert_eq!(check_line_tax(0, 100, -1), None);
        assert_eq!(check_line_tax(0, 100, 10001), None);
    }

    #[test]
    fn tolerance_agrees_with_the_check() {
        for (total, rate) in [(300, 1000), (9500, 2500), (-300, 1000), (100, 2000), (0, 0)] {
            let t = line_tax_tolerance(total, rate).unwrap();
            for given in t.floor - 4..=t.ceil + 4 {
                let want = if t.within().contains(&given) {
                    LineTaxCheck::Within
                } else if t.not_refused().contains(&given) {
                    LineTaxCheck::Borderline
                } else {
                    LineTaxCheck::Outside
                };
                assert_eq!(
                    check_line_tax(given, total, rate),
                    Some(want),
                    "{total} {rate} {given}"
                );
            }
        }
        let t = line_tax_tolerance(100, 2000).unwrap();
        assert_eq!((t.floor, t.ceil, t.hundredths()), (16, 17, 1667));
        assert!(!t.hundredths_exact());
        let t = line_tax_tolerance(-300, 1000).unwrap();
        assert_eq!((t.floor, t.ceil, t.hundredths()), (-28, -27, -2727));
        assert_eq!(line_tax_tolerance(100, 10001), None);
        let t = line_tax_tolerance(i64::MIN, 10000).unwrap();
        assert_eq!(t.within(), i64::MIN / 2 - 1..=i64::MIN / 2 + 1);
    }

    #[test]
    fn extremes_do_not_overflow() {
        assert_eq!(line_total(i64::MAX, i64::MAX, 0), None);
        assert_eq!(line_total(i64::MIN, 1, 1), None);
        assert_eq!(line_total(1, i64::MIN, 0), Some(i64::MIN));
        assert_eq!(line_tax(i64::MIN, 10000), Some(i64::MIN / 2));
        assert!(line_tax(i64::MAX, 10000).is_some());
        assert_eq!(order_amount([i64::MAX, 1]), None);
        assert!(order_tax_within(i64::MIN, i64::MAX, usize::MAX));
        assert!(!order_tax_within(i64::MIN, i64::MAX, 1000));
        assert_eq!(
            OrderLine::reduction(OrderLineType::Discount, "x", i64::MIN, None),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn us_style_cart() {
        let lines = vec![
            OrderLine::builder("Hat")
                .unit_price(2000)
                .quantity(2)
                .build()
                .unwrap(),
            OrderLine::priced("Scarf", 1, 1000, 2500).unwrap(),
        ];
        let cart = Cart::us_style(lines, 800).unwrap();
        assert_eq!(cart.order_lines.len(), 3);
        assert!(cart.order_lines.iter().all(|l| l.tax_rate.is_none()));
        let tax_line = cart.order_lines.last().unwrap();
        assert_eq!(tax_line.line_type, Some(OrderLineType::SalesTax));
        assert_eq!(tax_line.total_amount, 400);
        assert_eq!(cart.order_tax_amount, 400);
        assert_eq!(cart.order_amount, 5400);
    }

    #[test]
    fn global_cart_with_gift_card() {
        let lines = vec![
            OrderLine::priced("Book", 1, 1100, 1000).unwrap(),
            OrderLine::reduction(OrderLineType::GiftCard, "Gift card", 300, Some(1000)).unwrap(),
        ];
        let cart = Cart::global(lines).unwrap();
        assert_eq!(cart.order_amount, 800);
        assert_eq!(cart.order_tax_amount, 100 - 27);
        assert_eq!(Cart::global(vec![]), Err(MoneyError::LineCount(0)));
    }
}
