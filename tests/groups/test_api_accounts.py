import json

import pytest
from django.test import Client

from groups.models import ApiToken


@pytest.mark.django_db
def test_login_me_and_logout(users):
    client = Client()
    response = client.post("/api/v1/auth/login", json.dumps({"username": "dg_org", "password": "pass12345"}), content_type="application/json")
    assert response.status_code == 200
    assert response.json()["role"] == "organiser"
    assert client.get("/api/v1/me").json()["organisation_name"] == "东莞市总工会"


@pytest.mark.django_db
def test_wrong_password_is_a_clear_400(users):
    response = Client().post("/api/v1/auth/login", json.dumps({"username": "dg_org", "password": "nope"}), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_credentials"


@pytest.mark.django_db
def test_anonymous_gets_401_in_the_error_shape():
    response = Client().get("/api/v1/me")
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "detail"}


@pytest.mark.django_db
def test_token_create_use_and_revoke(users, client_for):
    web = client_for(users["dongguan_organiser"])
    created = web.post("/api/v1/tokens", json.dumps({"name": "脚本"}), content_type="application/json")
    assert created.status_code == 201
    raw = created.json()["token"]
    assert not ApiToken.objects.filter(digest=raw).exists()  # only the digest is stored

    bearer = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert bearer.get("/api/v1/me").status_code == 200

    revoked = web.delete(f"/api/v1/tokens/{created.json()['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert bearer.get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_another_users_token_cannot_be_revoked(users, client_for):
    mine = client_for(users["dongguan_organiser"]).post("/api/v1/tokens", json.dumps({"name": "a"}), content_type="application/json")
    response = client_for(users["shenzhen_organiser"]).delete(f"/api/v1/tokens/{mine.json()['id']}")
    assert response.status_code == 404
    assert ApiToken.objects.get().revoked_at is None


@pytest.mark.django_db
def test_unions_are_scoped_to_the_subtree(users, union_tree, client_for):
    dongguan = client_for(users["dongguan_organiser"])
    names = {u["name"] for u in dongguan.get("/api/v1/unions?limit=200").json()["items"]}
    assert names == {"东莞市总工会", "东莞市虎门镇总工会", "东莞某电子厂工会"}
    assert dongguan.get(f"/api/v1/unions/{union_tree['shenzhen'].pk}").status_code == 404
    assert client_for(users["province_admin"]).get(f"/api/v1/unions/{union_tree['shenzhen'].pk}").status_code == 200


@pytest.mark.django_db
def test_page_size_is_bounded(users, client_for):
    response = client_for(users["province_admin"]).get("/api/v1/unions?limit=100000")
    assert response.status_code == 422
    assert "limit" in response.json()["message"]
