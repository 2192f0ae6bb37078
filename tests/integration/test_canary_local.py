"""What the local server adds for canary analysis (tools/autopilot_tools/local/moto_canary.py),
through the real adapters: percentiles from GetMetricData, and service revisions that move
between a service's two target groups from one deployment to the next."""

from __future__ import annotations

from datetime import timedelta

from autopilot.adapters.alb_metrics import AlbMetrics
from autopilot.adapters.service_revisions import ServiceRevisions
from autopilot.domain.canary_hook import Minute, Window
from autopilot_tools.local.fleet import (
    CART,
    CART_LOAD_STARTS,
    cart_load_balancing,
    deploy_cart,
    digest_of,
    publish_load,
    seed_cart_alone,
)
from autopilot_tools.local.moto_canary import nearest_rank, revision_arn
from autopilot_tools.local.runner import LocalApp


def test_nearest_rank_is_the_smallest_value_at_or_above_the_share() -> None:
    values = [0.1] * 90 + [0.2] * 9 + [0.5]
    assert nearest_rank(values, 99) == 0.2
    assert nearest_rank(values, 100) == 0.5
    assert nearest_rank([], 99) is None


def test_each_deployment_gets_a_revision_in_the_target_group_blue_is_not_on(app: LocalApp) -> None:
    with app.aws_environment():
        # Given prod/cart created on build 1, then deployed twice
        cart = seed_cart_alone()
        found = cart_load_balancing()
        second, third = deploy_cart(cart, 2), deploy_cart(cart, 3)
        reader = ServiceRevisions()

        # Then each revision is associated with the other target group of the pair
        first = reader.revision(revision_arn(cart, second.replace(":2", ":1")))
        two, three = (reader.revision(revision_arn(cart, arn)) for arn in (second, third))
        assert first is not None
        assert two is not None
        assert three is not None
        assert (first.target_groups, two.target_groups, three.target_groups) == (
            (found.primary,),
            (found.alternate,),
            (found.primary,),
        )
        # and knows the digest of the image its cart container runs
        [cart_image] = [i for i in three.images if i.container == CART]
        assert cart_image.digest == digest_of(CART, 3)
        assert reader.revision(cart.replace(":service/", ":service-revision/") + "/1") is None


def test_alb_metrics_come_back_with_sums_and_percentiles(app: LocalApp) -> None:
    with app.aws_environment():
        # Given two minutes of load: build 1 healthy on one side, build 3 broken on the other
        seed_cart_alone()
        found = cart_load_balancing()
        publish_load(
            found.load_balancer,
            {
                found.primary: (digest_of(CART, 1), 900),
                found.alternate: (digest_of(CART, 3), 100),
            },
            CART_LOAD_STARTS,
            2,
        )

        # When both target groups are read over those minutes
        minutes = AlbMetrics().minutes(
            found.load_balancer.split(":loadbalancer/", 1)[1],
            [found.primary, found.alternate],
            Window(CART_LOAD_STARTS, CART_LOAD_STARTS + timedelta(minutes=2)),
        )

    # Then each minute has its requests, 5XX and percentiles, as the image serves
    assert minutes[found.primary] == [Minute(900, 2, 0.18, 0.18)] * 2
    assert minutes[found.alternate] == [Minute(100, 8, 0.9, 0.9)] * 2
