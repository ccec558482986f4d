"""The integrity pass's statistics, against values worked out by hand and by R."""

from __future__ import annotations

import math

import pytest

from webapp.services.integrity.stats import compare_with_rest, leading_option, two_proportion_z


def test_two_proportion_z_matches_the_textbook_value():
    # 45/100 against 35/100: pooled share 0.4, standard error sqrt(0.4 * 0.6 * 0.02);
    # R's prop.test(c(45, 35), c(100, 100), correct = FALSE) gives X-squared = 2.0833,
    # which is z squared.
    z = two_proportion_z(45, 100, 35, 100)
    assert z == pytest.approx(0.1 / math.sqrt(0.0048))
    assert z * z == pytest.approx(2.0833, abs=1e-4)


def test_two_proportion_z_is_negative_when_the_first_share_is_lower():
    assert two_proportion_z(500, 1000, 550, 1000) == pytest.approx(-2.2388683, abs=1e-6)
    assert two_proportion_z(35, 100, 45, 100) == pytest.approx(-two_proportion_z(45, 100, 35, 100))


def test_two_proportion_z_is_zero_without_anything_to_tell_apart():
    assert two_proportion_z(0, 0, 5, 10) == 0.0
    assert two_proportion_z(5, 10, 0, 0) == 0.0
    # Everyone answered the same: no variance.
    assert two_proportion_z(10, 10, 30, 30) == 0.0
    assert two_proportion_z(0, 10, 0, 30) == 0.0


def test_leading_option_breaks_ties_by_the_lowest_id():
    assert leading_option({3: 5, 2: 5, 7: 1}) == 2
    assert leading_option({3: 0}) is None
    assert leading_option({}) is None


def test_an_office_answering_like_everyone_is_far_below_four():
    # 40 votes, 65 % yes, against a poll that says 60 % yes.
    comparison = compare_with_rest({1: 26, 2: 14}, {1: 600, 2: 400})
    assert comparison is not None
    assert comparison.option_id == 1
    assert comparison.group_share == pytest.approx(0.65)
    assert comparison.rest_share == pytest.approx(0.6)
    assert abs(comparison.z) < 1


def test_three_thousand_votes_one_way_are_far_above_eight():
    comparison = compare_with_rest({1: 2950, 2: 50}, {1: 1550, 2: 3450})
    assert comparison is not None
    assert comparison.group_share == pytest.approx(2950 / 3000)
    assert comparison.rest_share == pytest.approx(0.31)
    assert comparison.z > 50


def test_a_group_without_a_rest_cannot_be_compared():
    comparison = compare_with_rest({1: 10}, {})
    assert comparison is not None
    assert comparison.z == 0.0 and comparison.rest_share == 0.0
    assert compare_with_rest({}, {1: 4}) is None
