"""The API's request and response bodies as pydantic models: the OpenAPI document (portal.api.openapi) is generated
from these, and responses are passed through them (`shaped`), so what is documented is what is sent."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    # Responses pass through their model (shaped): a field it does not document fails here, in the tests.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Error(Model):
    """Every refusal: a fixed code, and a message that may change."""

    code: str = Field(examples=["INVITATION_NOT_FOUND"])
    message: str


class CreateInvitation(Model):
    service: str | list[str] = Field(description="MTD-IT or MTD-VAT (a one-element array is accepted too)")
    clientType: str = Field(description="personal (MTD-IT); personal or business (MTD-VAT)")
    clientIdType: str = Field(description="ni for MTD-IT, vrn for MTD-VAT")
    clientId: str = Field(examples=["AA999999A", "101747696"])
    knownFact: str = Field(description="postcode (MTD-IT) or VAT registration date YYYY-MM-DD (MTD-VAT)")
    agentType: str | None = Field(default=None, description="main (default) or supporting; MTD-IT only")


class CheckRelationship(Model):
    service: str | list[str]
    clientType: str | None = None
    clientIdType: str
    clientId: str
    knownFact: str
    agentType: str | None = None


class Deauthorise(Model):
    service: str | list[str]
    clientType: str
    clientIdType: str
    clientId: str
    agentType: str | None = None


class Link(Model):
    href: str


class InvitationLinks(Model):
    self: Link


class Invitation(Model):
    links: InvitationLinks = Field(alias="_links")
    invitationId: str
    created: str = Field(description="RFC 3339, UTC")
    arn: str
    service: Literal["MTD-IT", "MTD-VAT"]
    status: Literal["Pending", "Accepted", "Rejected", "Cancelled", "Deauthorised", "Expired", "Partialauth"]
    expiresOn: str | None = Field(default=None, description="Pending only: YYYY-MM-DD")
    clientActionUrl: str | None = Field(default=None, description="Pending only")
    updated: str | None = Field(default=None, description="Not pending: RFC 3339, UTC")
    agentType: Literal["main", "supporting"] | None = Field(default=None, description="MTD-IT only")


class Invitations(Model):
    """E2's list (the document's wrapper only: the body is the bare array, as HMRC sends it)."""

    items: list[Invitation]


class VatObligation(Model):
    start: str
    end: str
    due: str
    status: Literal["O", "F"]
    periodKey: str
    received: str | None = None


class VatObligations(Model):
    obligations: list[VatObligation]


class VatReturn(Model):
    """The nine boxes (and `finalised`, on a submission only)."""

    periodKey: str = Field(pattern=r"^[#0-9A-Z]{4,20}$")
    vatDueSales: float
    vatDueAcquisitions: float
    totalVatDue: float
    vatReclaimedCurrPeriod: float
    netVatDue: float
    totalValueSalesExVAT: int
    totalValuePurchasesExVAT: int
    totalValueGoodsSuppliedExVAT: int
    totalAcquisitionsExVAT: int


class VatReturnSubmission(VatReturn):
    finalised: bool


class VatReceipt(Model):
    processingDate: str
    paymentIndicator: Literal["DD", "BANK"]
    formBundleNumber: str
    chargeRefNumber: str | None = None


class ClientItem(Model):
    service: str
    agentType: Literal["main", "supporting"] | None = None
    clientName: str
    clientIdType: str
    clientId: str
    authorisedSince: str


class ClientList(Model):
    items: list[ClientItem]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last")


class EventLinks(Model):
    invitation: Link


class RelationshipEvent(Model):
    id: str
    type: Literal["request_accepted", "request_declined", "request_expired", "request_cancelled",
                  "authorisation_ended_by_agent", "authorisation_ended_by_client", "authorisation_replaced"]
    clientName: str
    at: str
    service: str | None = None
    agentType: Literal["main", "supporting"] | None = None
    invitationId: str | None = None
    links: EventLinks | None = Field(default=None, alias="_links")


class RelationshipEvents(Model):
    events: list[RelationshipEvent]
    next_cursor: str = Field(description="Pass as after= next time: events after this one")


class KnownFact(Model):
    """A ready-made create body for a test client (test support, development only)."""

    service: str
    clientType: str
    clientIdType: str
    clientId: str
    knownFact: str | None


def shaped(model: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    """The body as the model documents it: a field the model lacks is an error here, not a surprise for software."""
    return model.model_validate(body).model_dump(by_alias=True, exclude_none=True, mode="json")
