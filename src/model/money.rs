//! Klarna's arithmetic on minor units (reference 3.1): pure and total.
