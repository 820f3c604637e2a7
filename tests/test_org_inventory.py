"""A c7n-org `accounts.yml` inventory, without AWS: account ids are twelve digits as written, whatever
YAML 1.1 makes of them; a role must be in its entry's account; the file is read within the state
files' bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from trailkeeper.errors import InvalidState
from trailkeeper.org import inventory

ROLE = "arn:aws:iam::{}:role/TrailkeeperMember"


def load(tmp_path: Path, text: str) -> list[inventory.Account]:
    path = tmp_path / "accounts.yml"
    path.write_text(text)
    return inventory.load(path, role_name="OrganizationAccountAccessRole")


def problems(tmp_path: Path, text: str) -> tuple[str, ...]:
    with pytest.raises(InvalidState) as raised:
        load(tmp_path, text)
    return raised.value.problems


def test_an_unquoted_id_that_yaml_reads_as_octal_keeps_its_digits(tmp_path: Path) -> None:
    # YAML 1.1: 012345670123 is the octal number 1402433619; padding it back gave 001402433619.
    (account,) = load(tmp_path, "accounts:\n  - account_id: 012345670123\n")
    assert account.id == "012345670123"
    assert account.role_arn == "arn:aws:iam::012345670123:role/OrganizationAccountAccessRole"


@pytest.mark.parametrize("written", ["111122223333", "012345678901", '"012345670123"', "'000000000001'"])
def test_twelve_digits_quoted_or_not_are_the_id(tmp_path: Path, written: str) -> None:
    (account,) = load(tmp_path, f"accounts:\n  - account_id: {written}\n")
    assert account.id == written.strip("'\"")


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        # A number YAML rewrote: never reformatted into an id (it could be another account's).
        ("12345678901", "account_id 12345678901 is not 12 digits (YAML read it as the number 12345678901)"),
        ("111_122_223_333", "account_id 111_122_223_333 is not 12 digits (YAML read it as the number 111122223333)"),
        ("0x1A2B3C4D5E", "account_id 0x1A2B3C4D5E is not 12 digits"),
        ("1:20", "account_id 1:20 is not 12 digits (YAML read it as the number 80)"),
        ('"1234567890123"', "account_id '1234567890123' is not 12 digits"),
        ('"11112222333\\n"', "account_id '11112222333\\n' is not 12 digits"),
        ('"١١١١٢٢٢٢٣٣٣٣"', "is not 12 digits"),  # digits of another script
        ("1.1e+11", "account_id 110000000000.0 must be the account's 12 digits, in quotes"),
        ("true", "account_id True must be the account's 12 digits, in quotes"),
        ("", "account_id None must be the account's 12 digits, in quotes"),
    ],
)
def test_an_id_that_is_not_twelve_digits_is_refused_naming_it(tmp_path: Path, written: str, problem: str) -> None:
    (found,) = problems(tmp_path, f"accounts:\n  - account_id: {written}\n")
    assert found.startswith(f"{tmp_path / 'accounts.yml'}: accounts[0]: ")
    assert problem in found
    if "YAML read it" in problem:
        assert 'in quotes, leading zeros included, e.g. account_id: "012345678901"' in found


def test_a_role_arn_in_another_account_is_refused_naming_both(tmp_path: Path) -> None:
    # The run would otherwise check 222222222222 under 111111111111's name (and report it as such).
    text = f"accounts:\n  - account_id: '111111111111'\n    role: {ROLE.format('222222222222')}\n"
    (found,) = problems(tmp_path, text)
    assert f"role {ROLE.format('222222222222')} is in account 222222222222, not in account_id 111111111111" in found
    (same,) = load(tmp_path, f"accounts:\n  - account_id: '111111111111'\n    role: {ROLE.format('111111111111')}\n")
    assert same.role_arn == ROLE.format("111111111111")


@pytest.mark.parametrize(
    ("role", "problem"),
    [
        ("arn:aws:iam::111111111111:user/alice", "is not an IAM role ARN"),
        ("arn:aws:iam::1111:role/R", "is not an IAM role ARN"),
        ("bad:name", "is not an IAM role name or ARN"),
    ],
)
def test_a_role_that_is_not_a_role_is_refused(tmp_path: Path, role: str, problem: str) -> None:
    (found,) = problems(tmp_path, f"accounts:\n  - account_id: '111111111111'\n    role: '{role}'\n")
    assert problem in found


def test_the_inventory_is_read_within_the_state_files_bounds(tmp_path: Path) -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )
    (found,) = problems(tmp_path, laughs + "accounts: []\n")
    assert "too large" in found
    (duplicate,) = problems(tmp_path, "accounts:\n  - account_id: '111111111111'\n    account_id: '222222222222'\n")
    assert "duplicate key 'account_id'" in duplicate
    # YAML 1.2 booleans, as in state files: `yes` stays the string 'yes' (safe_load made it True, refused).
    assert load(tmp_path, "accounts:\n  - account_id: '111111111111'\n    external_id: yes\n")[0].external_id == "yes"
