from decimal import Decimal

import pytest
from pydantic import ValidationError

from companion.erp.parties.schemas import CustomerIn, CustomerUpdate, SupplierIn, SupplierUpdate


def test_names_are_trimmed_and_inner_spaces_collapsed() -> None:
    assert CustomerIn(name="  Dhaka   Traders  Ltd ").name == "Dhaka Traders Ltd"


def test_blank_name_is_refused() -> None:
    with pytest.raises(ValidationError):
        CustomerIn(name="   ")


def test_codes_are_upper_cased_and_may_not_hold_spaces() -> None:
    assert SupplierIn(name="X", code=" supp-9 ").code == "SUPP-9"
    with pytest.raises(ValidationError):
        SupplierIn(name="X", code="A B")


@pytest.mark.parametrize("email", ["a@b.co", "first.last+tag@mail.example.com"])
def test_plausible_emails_pass(email: str) -> None:
    assert CustomerIn(name="X", email=email).email == email


@pytest.mark.parametrize("email", ["nobody", "a@b", "a b@c.com", "@c.com", "a@@c.com", "a@c."])
def test_implausible_emails_are_refused(email: str) -> None:
    with pytest.raises(ValidationError):
        CustomerIn(name="X", email=email)


def test_empty_email_means_none() -> None:
    assert CustomerIn(name="X", email="  ").email is None


def test_credit_limit_cannot_be_negative_or_fractional_cents() -> None:
    with pytest.raises(ValidationError):
        CustomerIn(name="X", credit_limit=Decimal("-1"))
    with pytest.raises(ValidationError):
        CustomerIn(name="X", credit_limit=Decimal("1.001"))
    assert CustomerIn(name="X").credit_limit == Decimal("0")


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        CustomerIn.model_validate({"name": "X", "limit": 5})


def test_update_reports_only_the_fields_sent() -> None:
    assert CustomerUpdate(email="a@b.co").changes() == {"email": "a@b.co"}
    assert SupplierUpdate(phone=None).changes() == {"phone": None}


def test_update_cannot_clear_a_required_field() -> None:
    with pytest.raises(ValidationError) as err:
        CustomerUpdate(name=None)
    assert "name cannot be cleared" in str(err.value)
    with pytest.raises(ValidationError):
        CustomerUpdate(credit_limit=None)
