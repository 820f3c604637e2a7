"""Tags: `Tags` (a list of {Key, Value}, as in CloudFormation), read with ListTags, written with AddTags/RemoveTags.
Pure.

The declared list is the trail's whole set of user tags: a missing or different tag is added (AddTags
overwrites a key's value), a tag that is not declared is removed. Keys starting `aws:` belong to AWS
(CloudFormation adds `aws:cloudformation:*` to what it creates): they are never compared, added or
removed, and declaring one is an error. Tags compare as a set; a trail takes at most 50.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trailkeeper.errors import show
from trailkeeper.trail.aspect import TAGS, Call, Change, PropertyDoc, Weakening
from trailkeeper.trail.values import unknown_keys

TAGS_PROPERTY = "Tags"
LIMIT = 50  # CloudTrail's limit per trail (TagsLimitExceededException); botocore's 200 is a list size
KEY_MAX, VALUE_MAX = 128, 256  # botocore's Tag shape
RESERVED = "aws:"

Tags = Mapping[str, str]


def _user(tags: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in tags.items() if not key.lower().startswith(RESERVED)}


def parse_list(raw: object) -> tuple[dict[str, str] | None, list[str]]:
    if not isinstance(raw, list):
        return None, [f"{TAGS_PROPERTY}={show(raw)}: must be a list of {{Key, Value}}"]
    if len(raw) > LIMIT:
        return None, [f"{TAGS_PROPERTY}: {len(raw)} tags; a trail takes at most {LIMIT}"]
    tags: dict[str, str] = {}
    problems: list[str] = []
    for index, item in enumerate(raw):
        path = f"{TAGS_PROPERTY}[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{path}={show(item)}: must be an object with Key and Value")
            continue
        problems.extend(unknown_keys(path, item, ("Key", "Value")))
        key, value = item.get("Key"), item.get("Value")
        if not isinstance(key, str) or not 1 <= len(key) <= KEY_MAX:
            problems.append(f"{path}.Key={show(key)}: must be a string of 1-{KEY_MAX} characters")
            continue
        if key.lower().startswith(RESERVED):
            problems.append(f"{path}.Key={show(key)}: keys starting 'aws:' are reserved for AWS")
        elif key in tags:
            problems.append(f"{path}.Key={show(key)}: declared twice")
        if not isinstance(value, str) or not 1 <= len(value) <= VALUE_MAX:
            problems.append(f"{path}.Value={show(value)}: must be a string of 1-{VALUE_MAX} characters")
            continue
        tags[key] = value
    return (None, problems) if problems else (tags, [])


def to_doc(tags: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(tags.items()))


class TagsAspect:
    name: str = "tags"
    properties: tuple[str, ...] = (TAGS_PROPERTY,)
    permissions: tuple[str, ...] = ("cloudtrail:ListTags", "cloudtrail:AddTags", "cloudtrail:RemoveTags")
    docs: tuple[PropertyDoc, ...] = (
        PropertyDoc(
            TAGS_PROPERTY,
            "list",
            f"[{{Key, Value}}], at most {LIMIT}; keys 1-{KEY_MAX} characters, not starting aws:; values 1-{VALUE_MAX}",
            "The trail's whole set of user tags (AddTags / RemoveTags); aws: tags are never touched.",
        ),
    )
    absent_when: frozenset[str] = frozenset()

    def parse(self, props: Mapping[str, object]) -> tuple[object | None, list[str]]:
        if TAGS_PROPERTY not in props:
            return None, []
        return parse_list(props[TAGS_PROPERTY])

    def known(self, trail: Mapping[str, Any]) -> object | None:
        return None  # DescribeTrails does not return tags

    def read(self, trail_arn: str) -> Call:
        return Call("ListTags", {"ResourceIdList": [trail_arn]})

    def current(self, answer: Mapping[str, Any] | None, error_code: str | None) -> object:
        found: dict[str, str] = {}
        for resource in (answer or {}).get("ResourceTagList") or []:
            for tag in resource.get("TagsList") or []:
                found[str(tag.get("Key", ""))] = str(tag.get("Value", ""))
        return _user(found)

    def changes(self, desired: Any, current: Any) -> list[Change]:
        if dict(desired) == dict(current):
            return []
        return [Change(TAGS_PROPERTY, to_doc(current), to_doc(desired))]

    def writes(self, desired: Any, current: Any, trail_arn: str) -> list[Call]:
        add = {key: value for key, value in desired.items() if current.get(key) != value}
        remove = sorted(key for key in current if key not in desired)
        # RemoveTags first: a trail at its 50-tag limit could not take the new tags before the old go.
        calls: list[Call] = []
        if remove:
            keys = [{"Key": key} for key in remove]
            calls.append(Call("RemoveTags", {"ResourceId": trail_arn, "TagsList": keys}, TAGS, (TAGS_PROPERTY,)))
        if add:
            tags = [{"Key": key, "Value": value} for key, value in sorted(add.items())]
            calls.append(Call("AddTags", {"ResourceId": trail_arn, "TagsList": tags}, TAGS, (TAGS_PROPERTY,)))
        return calls

    def weakenings(self, desired: Any, current: Any) -> list[Weakening]:
        return []  # tags label a trail; they do not decide what it records


TAGS_ASPECT = TagsAspect()
