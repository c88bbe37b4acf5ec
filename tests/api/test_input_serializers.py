"""Hot input serializers copy their declared fields shallowly: instances must still be independent."""

from api.serializers.reporter import SignatureListParams
from api.serializers.signing import SignInputSerializer


def test_sign_inputs_validate_independently_and_leave_the_declared_fields_unbound():
    bad = SignInputSerializer(data={"name": "", "email": "not-an-address"})
    good = SignInputSerializer(data={"name": "Ada Lovelace", "email": "Ada@Example.org", "public": False})
    assert bad.is_valid() is False
    assert good.is_valid() is True
    assert bad.errors == {"name": ["This field may not be blank."], "email": ["Enter a valid email address."]}
    assert good.validated_data == {"name": "Ada Lovelace", "email": "Ada@example.org", "public": False}
    assert bad.fields["name"].parent is bad and good.fields["name"].parent is good
    assert SignInputSerializer._declared_fields["name"].parent is None


def test_list_params_keep_their_own_defaults_and_errors():
    wrong = SignatureListParams(data={"level": "bogus", "q": "x" * 201})
    plain = SignatureListParams(data={})
    assert wrong.is_valid() is False and plain.is_valid() is True
    assert sorted(wrong.errors) == ["level", "q"]
    assert plain.validated_data["ordering"] == "signed_at"
