"""The lecture's ideas as scenes: each lesson is a preset plus the claim it demonstrates."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lesson:
    id: str
    number: int
    title: str
    text: tuple[str, ...]
    scene: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"id": self.id, "number": self.number, "title": self.title, "text": list(self.text), "scene": self.scene}


LESSONS: tuple[Lesson, ...] = ()
