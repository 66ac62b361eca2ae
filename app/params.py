"""Surface and optimizer specs typed per name, built from the engine's catalogs.

Each surface and each optimizer gets its own request model, ``{"name": <literal>, "params": {...}}``,
whose parameters carry the engine's bounds, kinds, choices and defaults; the models form a union
discriminated by ``name``. A client generated from /openapi.json therefore knows every
parameter and its range, and the published schema is exactly what is enforced: each parameter is
validated by the engine's own ``Param.validate`` (one home for each range, and its message), and
its JSON schema is printed from the same ``Param``.

Validated ``params`` are handed on as a plain dict of the parameters given, as before.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema, create_model, field_serializer,
                      field_validator)
from pydantic_core import PydanticCustomError

from engine import OPTIMIZERS, SURFACES, Param, ParamError
from engine.surfaces import TEXT_SURFACES
from engine.surfaces.custom import MAX_LENGTH as FORMULA_MAX_LENGTH

#: Coordinates the API accepts anywhere (start points, views).
COORDINATE_LIMIT = 1e6


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def param_json_schema(p: Param) -> dict:
    """The JSON schema of one parameter: exactly what ``p.validate`` accepts from JSON."""
    out: dict[str, Any] = {"title": p.label or p.name, "description": p.description, "default": p.default}
    if p.kind == "choice":
        out.update(type="string", enum=list(p.choices))
    elif p.kind == "text":
        out.update(type="string", maxLength=int(p.high))
    else:
        out["type"] = "integer" if p.kind == "int" else "number"
        low, high = (int(p.low), int(p.high)) if p.kind == "int" else (p.low, p.high)
        out["exclusiveMinimum" if p.low_open else "minimum"] = low
        out["maximum"] = high
    return out


def _validator(p: Param, owner: str):
    def validate(value):
        try:
            return p.validate(value, owner)
        except (ParamError, ArithmeticError) as e:  # ArithmeticError: a second line; Param.validate refuses first
            message = str(e) if isinstance(e, ParamError) else str(ParamError(f"{owner}.{p.name}", value, p.allowed()))
            raise PydanticCustomError("param_invalid", "{message}", {"message": message}) from None
    return validate


def _params_model(owner: str, specs, kind: str) -> type[BaseModel]:
    fields = {p.name: (Annotated[Any, PlainValidator(_validator(p, owner)), WithJsonSchema(param_json_schema(p))],
                       Field(p.default, description=p.description)) for p in specs}
    return create_model(f"{_camel(owner)}{kind}Params", __config__=ConfigDict(extra="forbid"),
                        __doc__=f"Parameters of {owner}; omitted ones take their defaults.", **fields)


class _Spec(BaseModel):
    """A named surface or optimizer with its parameters; ``params`` becomes a dict of those given."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("params", mode="after", check_fields=False)
    @classmethod
    def _given(cls, v):
        return v.model_dump(exclude_unset=True) if isinstance(v, BaseModel) else v

    @field_serializer("params", check_fields=False)
    def _as_given(self, v):
        return dict(v)  # the dict of given parameters, written back as it was read


class SurfaceSpec(_Spec):
    """A surface with no ``formula`` or ``view`` fields (only the custom surface has them): both read None."""

    @property
    def formula(self) -> str | None:
        return None

    @property
    def view(self) -> tuple | None:
        return None


Coordinate = Annotated[float, Field(ge=-COORDINATE_LIMIT, le=COORDINATE_LIMIT, strict=True, allow_inf_nan=False)]
View = tuple[Coordinate, Coordinate, Coordinate, Coordinate]


def _surface_model(name: str, cls) -> type[BaseModel]:
    params = _params_model(name, cls.PARAMS, "Surface")
    fields: dict[str, Any] = {
        "name": (Literal[name], Field(description=cls.TITLE)),
        "params": (params, Field(default_factory=params, validate_default=True,
                                     description="Parameters; omitted ones take their defaults.")),
    }
    if name in TEXT_SURFACES:
        fields["formula"] = (str | None, Field(None, max_length=FORMULA_MAX_LENGTH,
                                               examples=["(1 - x)**2 + 100*(y - x**2)**2"],
                                               description="f(x, y) (or params.formula); check it with POST /api/formula."))
        fields["view"] = (View | None, Field(None, description="Its box (xmin, xmax, ymin, ymax); default (-3, 3, -3, 3)."))
    base = _Spec if name in TEXT_SURFACES else SurfaceSpec
    return create_model(f"{_camel(name)}Surface", __base__=base, __doc__=cls.DESCRIPTION, **fields)


def _optimizer_model(name: str, spec) -> type[BaseModel]:
    params = _params_model(name, spec.params, "Optimizer")
    return create_model(f"{_camel(name)}Optimizer", __base__=_Spec, __doc__=f"{spec.title}: {spec.formula}",
                        name=(Literal[name], Field(description=spec.title)),
                        params=(params, Field(default_factory=params, validate_default=True,
                                              description="Parameters; omitted ones take their defaults.")))


SURFACE_MODELS = {name: _surface_model(name, cls) for name, cls in {**SURFACES, **TEXT_SURFACES}.items()}
OPTIMIZER_MODELS = {name: _optimizer_model(name, spec) for name, spec in OPTIMIZERS.items()}

SurfaceIn = Annotated[Union[tuple(SURFACE_MODELS.values())], Field(discriminator="name")]
OptimizerIn = Annotated[Union[tuple(OPTIMIZER_MODELS.values())], Field(discriminator="name")]


def optimizer(name: str, **params) -> BaseModel:
    """A validated optimizer spec, e.g. for a default."""
    return OPTIMIZER_MODELS[name].model_validate({"name": name, "params": params})


# --- errors -----------------------------------------------------------------

_MODELS = {"surface": SURFACE_MODELS, "optimizer": OPTIMIZER_MODELS}


def _specs(kind: str, name: str):
    return OPTIMIZERS[name].params if kind == "optimizer" else {**SURFACES, **TEXT_SURFACES}[name].PARAMS


def _owner_kind(loc: list, i: int) -> str | None:
    """Whether ``loc[:i]`` ends at a surface or an optimizer spec."""
    if i and loc[i - 1] == "surface":
        return "surface"
    if i and (loc[i - 1] == "optimizer" or (i > 1 and loc[i - 2] in ("optimizers",) and isinstance(loc[i - 1], int))):
        return "optimizer"
    return None


def restate(loc: list, error: dict) -> tuple[list, str]:
    """pydantic's location and message for an error in a typed spec, said as the engine says it.

    The union's tag leaves the location (``surface.quadratic.params.x`` → ``surface.params.x``); an
    unknown name reads ``surface = 'bowl' is not allowed: one of quadratic, …`` at ``surface.name``,
    and an unknown parameter ``unknown parameter; gd takes: lr, schedule, decay_every``.
    """
    msg = error.get("msg", "invalid")
    kind_of_error = error.get("type")
    for i, part in enumerate(loc):
        kind = _owner_kind(loc, i)
        if kind is None:
            continue
        if isinstance(part, str) and part in _MODELS[kind]:
            loc = loc[:i] + loc[i + 1:]
            rest = loc[i:]
            if kind_of_error == "extra_forbidden" and len(rest) == 2 and rest[0] == "params":
                takes = ", ".join(p.name for p in _specs(kind, part)) or "none"
                msg = f"unknown parameter; {part} takes: {takes}"
            elif kind_of_error == "extra_forbidden" and rest in (["formula"], ["view"]) and kind == "surface":
                msg = f"surface.{rest[0]} is only for the custom surface"
            break
    if kind_of_error in ("union_tag_invalid", "union_tag_not_found"):
        kind = _owner_kind(loc, len(loc))
        if kind is not None:
            loc = loc + ["name"]
            if kind_of_error == "union_tag_not_found":
                msg = "Field required"
            else:
                tag = (error.get("ctx") or {}).get("tag")
                shown = tag if isinstance(tag, str) else repr(tag)
                names = ", ".join(_MODELS[kind])
                msg = f"{kind} = {shown[:66]!r} is not allowed: one of {names}"
    return loc, msg
