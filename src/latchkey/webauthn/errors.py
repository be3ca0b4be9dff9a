"""One exception per failed verification step, each with a stable code (WebAuthn L3 §7.1, §7.2)."""

from __future__ import annotations

from latchkey.errors import VerificationError


class MalformedResponse(VerificationError):
    """clientDataJSON, attestationObject, authenticatorData or their JSON is unreadable."""

    code = "malformed_response"


class TypeMismatch(VerificationError):
    code = "type_mismatch"


class ChallengeMismatch(VerificationError):
    code = "challenge_mismatch"


class OriginMismatch(VerificationError):
    code = "origin_mismatch"


class RpIdMismatch(VerificationError):
    code = "rp_id_mismatch"


class UserPresenceRequired(VerificationError):
    code = "user_presence_required"


class UserVerificationRequired(VerificationError):
    code = "user_verification_required"


class InvalidBackupFlags(VerificationError):
    code = "invalid_backup_flags"


class SyncedPasskeyNotAllowed(VerificationError):
    code = "synced_passkey_not_allowed"


class UnsupportedAlgorithm(VerificationError):
    code = "unsupported_algorithm"


class UnsupportedAttestationFormat(VerificationError):
    code = "unsupported_attestation_format"


class UntrustedAttestation(VerificationError):
    code = "untrusted_attestation"


class AttestationAaguidMismatch(VerificationError):
    code = "attestation_aaguid_mismatch"


class InvalidAttestation(VerificationError):
    """The attestation statement does not verify (signature, certificate contents)."""

    code = "invalid_attestation"


class BadSignature(VerificationError):
    code = "bad_signature"


class SignCountRegression(VerificationError):
    """§7.2 step 22: the counter did not increase; the authenticator may be cloned."""

    code = "sign_count_regression"


class UserHandleMismatch(VerificationError):
    code = "user_handle_mismatch"


class CredentialMismatch(VerificationError):
    """The response is for another credential than the one the ceremony allowed."""

    code = "credential_not_allowed"


class AttestationRequired(VerificationError):
    """The tenant requires a verified attestation statement and the response carries none."""

    code = "attestation_required"


class AuthenticatorCompromised(VerificationError):
    """The FIDO metadata reports the model revoked or its keys compromised (MDS3 §3.1.4)."""

    code = "authenticator_compromised"


class AuthenticatorNotAllowed(VerificationError):
    """The tenant's allow- or deny-list, or its key-protection rule, refuses this model."""

    code = "authenticator_not_allowed"


class AuthenticatorNotCertified(VerificationError):
    """The model's FIDO certification is below the tenant's minimum."""

    code = "authenticator_not_certified"


class AttachmentNotAllowed(VerificationError):
    """The attested model's attachment is not the one the tenant allows."""

    code = "attachment_not_allowed"
