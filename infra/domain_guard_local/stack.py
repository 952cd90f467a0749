"""Deploy template.yaml into moto and run the real handlers against it.

The template is transformed with aws-sam-translator, exactly as SAM would, and
created as a moto CloudFormation stack, so local runs and tests cannot drift from
what is deployed. moto runs no Lambda code without Docker, so the handlers are
called in this process with the environment each function was deployed with.
moto's CloudFormation skips Scheduler schedules, SNS subscriptions, SQS queue
policies and CloudWatch alarms: those resources are taken out of the stack and
created here through the service APIs instead. Two local queues subscribe to the
topics, so a run can read back every warning and alert that was published.

Everything here must run inside an active ``moto.mock_aws``.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

from domain_guard.handlers import reset_clients

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
CODE_BUCKET = "domain-guard-local-code"
CODE_KEY = "functions.zip"
# Resource types moto's CloudFormation does not create; this module does.
CREATED_HERE = frozenset(
    {
        "AWS::Scheduler::Schedule",
        "AWS::SNS::Subscription",
        "AWS::CloudWatch::Alarm",
        "AWS::SQS::QueuePolicy",
    }
)
HANDLER_MODULES = {
    "DispatchFunction": "domain_guard.handlers.dispatch",
    "WorkerFunction": "domain_guard.handlers.worker",
    "CheckFunction": "domain_guard.handlers.check",
    "AuthorizerFunction": "domain_guard.handlers.authorizer",
    "EnrollFunction": "domain_guard.handlers.enroll",
    "MailerFunction": "domain_guard.handlers.mailer",
}
PLACEHOLDER_CODE = "# The local stack runs the handlers in the calling process.\n"
# Local runs query one fixture server, so its pace need not be spread in time.
LOCAL_PARAMETERS = {"RdapQueriesPerSecond": "1000"}
LOCAL_ENVIRONMENT = {"DOMAIN_GUARD_RDAP_BURST": "1000"}


def transform_template(
    template_path: Path = TEMPLATE_PATH,
    parameters: Mapping[str, str] | None = None,
    *,
    inline_code: bool = False,
) -> dict[str, Any]:
    """Transform the SAM template to plain CloudFormation, as ``sam deploy`` does.

    The translator accepts only S3 locations for code, so ``CodeUri`` points at
    a placeholder object. With ``inline_code`` each function gets a one-line
    inline body instead. The code behind either is never run.
    """
    text = template_path.read_text(encoding="utf-8")
    key = (text, tuple(sorted((parameters or {}).items())), inline_code)
    return copy.deepcopy(_transform_cached(*key))


@functools.lru_cache(maxsize=8)
def _transform_cached(
    text: str, parameters: tuple[tuple[str, str], ...], inline_code: bool
) -> dict[str, Any]:
    template = yaml_parse(text)
    function_globals = template.setdefault("Globals", {}).setdefault("Function", {})
    function_globals["CodeUri"] = f"s3://{CODE_BUCKET}/{CODE_KEY}"
    if inline_code:
        del function_globals["CodeUri"]
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function":
                resource["Properties"]["InlineCode"] = PLACEHOLDER_CODE
    translator = Translator(None, Parser())
    transformed: dict[str, Any] = translator.translate(
        template,
        parameter_values=dict(parameters),
        get_managed_policy_map=dict,
    )
    # The translator counts metrics and logs a warning if they are never sent;
    # its default publisher sends nowhere.
    translator.metrics.publish()
    return transformed


@dataclass
class SweepReport:
    """Counts from one drain of the sweep queue."""

    checked: int = 0
    failed: int = 0
    batches: int = 0
    dispatch: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class LocalStack:
    """A deployed stack: physical names and a way to run each function's handler."""

    stack_name: str
    region: str
    outputs: dict[str, str]
    functions: dict[str, str]  # logical id -> function name
    local_environment: dict[str, str]
    owner_warnings_tap: str  # queue URL subscribed to OwnerWarnings
    operator_alerts_tap: str  # queue URL subscribed to OperatorAlerts
    schedule_name: str | None = None

    @property
    def table_name(self) -> str:
        return self.outputs["StateTableName"]

    @property
    def queue_url(self) -> str:
        return self.outputs["SweepQueueUrl"]

    @property
    def dead_letter_queue_url(self) -> str:
        return self.outputs["SweepDeadLetterQueueUrl"]

    @property
    def owner_topic_arn(self) -> str:
        return self.outputs["OwnerWarningsTopicArn"]

    @property
    def operator_topic_arn(self) -> str:
        return self.outputs["OperatorAlertsTopicArn"]

    def environment(self, function: str) -> dict[str, str]:
        """Return the function's deployed environment plus the local overrides."""
        client = boto3.client("lambda", region_name=self.region)
        configuration = client.get_function_configuration(
            FunctionName=self.functions[function]
        )
        variables = configuration.get("Environment", {}).get("Variables", {})
        return {**{k: str(v) for k, v in variables.items()}, **self.local_environment}

    @contextlib.contextmanager
    def function_environment(self, function: str) -> Iterator[dict[str, str]]:
        """Set the function's environment for the duration of the block."""
        variables = self.environment(function)
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        reset_clients()
        try:
            yield variables
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            reset_clients()

    def invoke(self, function: str, event: Any, context: Any = None) -> Any:
        """Run a function's real ``handler`` in this process, as Lambda would."""
        module = importlib.import_module(HANDLER_MODULES[function])
        with self.function_environment(function):
            return module.handler(
                event, context or LambdaContext(self.functions[function])
            )

    def sweep(self, *, max_batches: int = 1000) -> SweepReport:
        """Run dispatch as the schedule would, then feed the queue to the worker."""
        dispatch_report = self.invoke("DispatchFunction", scheduler_event())
        report = self.drain_queue(max_batches=max_batches)
        report.dispatch = dispatch_report
        report.warnings = self.owner_warnings()
        return report

    def drain_queue(self, *, max_batches: int = 1000) -> SweepReport:
        """Feed visible sweep messages to the worker handler as SQS events.

        Messages the worker reports as failed stay on the queue, invisible until
        their visibility timeout ends, as with the Lambda event source mapping.
        """
        sqs = boto3.client("sqs", region_name=self.region)
        queue_arn = sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        report = SweepReport()
        for _ in range(max_batches):
            received = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                break
            event = {
                "Records": [sqs_record(m, queue_arn, self.region) for m in received]
            }
            response = self.invoke("WorkerFunction", event)
            failed = {
                f["itemIdentifier"] for f in response.get("batchItemFailures", [])
            }
            done = [m for m in received if m["MessageId"] not in failed]
            for start in range(0, len(done), 10):
                sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done[start : start + 10])
                    ],
                )
            report.batches += 1
            report.checked += len(done)
            report.failed += len(failed)
        return report

    def make_all_due(self, *, query_rdap: bool = True) -> int:
        """Make every domain due now, as the demo's repeated sweeps need.

        Local use only: it scans the table, which no deployed code does.
        """
        client = boto3.client("dynamodb", region_name=self.region)
        count = 0
        expression = "SET next_check_at = :due"
        if query_rdap:
            expression += ", next_rdap_at = :due"
        for page in client.get_paginator("scan").paginate(
            TableName=self.table_name,
            FilterExpression="attribute_exists(due_shard)",
            ProjectionExpression="pk, sk",
        ):
            for key in page.get("Items", []):
                client.update_item(
                    TableName=self.table_name,
                    Key=key,
                    UpdateExpression=expression,
                    ExpressionAttributeValues={":due": {"S": "1970-01-01T00:00:00Z"}},
                )
                count += 1
        return count

    def owner_warnings(self) -> list[dict[str, Any]]:
        """Drain the OwnerWarnings tap: domain, kind and days_left of each warning."""
        return [
            {
                "domain": attributes.get("domain"),
                "kind": attributes.get("kind"),
                "days_left": int(attributes["days_left"])
                if attributes.get("days_left") is not None
                else None,
                "subject": subject,
                "message": message,
            }
            for attributes, subject, message in self._drain_tap(self.owner_warnings_tap)
        ]

    def operator_alerts(self) -> list[dict[str, Any]]:
        return [
            {"kind": attributes.get("kind"), "subject": subject, "message": message}
            for attributes, subject, message in self._drain_tap(
                self.operator_alerts_tap
            )
        ]

    def _drain_tap(self, queue_url: str) -> list[tuple[dict[str, str], str, str]]:
        sqs = boto3.client("sqs", region_name=self.region)
        notifications = []
        while True:
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10
            ).get("Messages", [])
            if not messages:
                return notifications
            for message in messages:
                envelope = json.loads(message["Body"])
                attributes = {
                    name: value.get("Value")
                    for name, value in envelope.get("MessageAttributes", {}).items()
                }
                notifications.append(
                    (
                        attributes,
                        envelope.get("Subject", ""),
                        envelope.get("Message", ""),
                    )
                )
                sqs.delete_message(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


@dataclass
class LambdaContext:
    """The parts of the Lambda context object the handlers read."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_ms: int = 60_000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def deploy_stack(
    *,
    stack_name: str = "domain-guard",
    parameters: Mapping[str, str] | None = None,
    local_environment: Mapping[str, str] | None = None,
    template_path: Path = TEMPLATE_PATH,
    region: str | None = None,
) -> LocalStack:
    """Deploy template.yaml into the active moto account and return the stack.

    ``local_environment`` is added to every function's environment, for the
    local-only settings (DOMAIN_GUARD_RDAP_BASE_URL, DOMAIN_GUARD_NAMESERVER,
    DOMAIN_GUARD_NO_DNS) the template never sets.
    """
    region = region or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    values = {**LOCAL_PARAMETERS, **(parameters or {})}
    transformed = transform_template(template_path, values, inline_code=True)
    skipped = {
        name: resource
        for name, resource in transformed["Resources"].items()
        if resource["Type"] in CREATED_HERE
    }
    for name in skipped:
        del transformed["Resources"][name]

    cloudformation = boto3.client("cloudformation", region_name=region)
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(transformed),
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v} for k, v in values.items()
        ],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    description = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if description["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(
            f"local stack {stack_name} ended in {description['StackStatus']}: "
            f"{description.get('StackStatusReason')}"
        )
    outputs = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.list_stack_resources(StackName=stack_name)[
            "StackResourceSummaries"
        ]
    }
    functions = {name: resources[name] for name in HANDLER_MODULES if name in resources}
    _disable_moto_polling(functions.values(), region)
    resolver = _Resolver(transformed, values, resources, region)
    schedule_name = _create_skipped(skipped, resolver, region)
    sns = boto3.client("sns", region_name=region)
    return LocalStack(
        stack_name=stack_name,
        region=region,
        outputs=outputs,
        functions=functions,
        local_environment={**LOCAL_ENVIRONMENT, **(local_environment or {})},
        owner_warnings_tap=_tap_queue(sns, outputs["OwnerWarningsTopicArn"], region),
        operator_alerts_tap=_tap_queue(sns, outputs["OperatorAlertsTopicArn"], region),
        schedule_name=schedule_name,
    )


def scheduler_event() -> dict[str, Any]:
    """Return the event EventBridge Scheduler sends a Lambda target (no payload)."""
    return {}


def sqs_record(
    message: Mapping[str, Any], queue_arn: str, region: str
) -> dict[str, Any]:
    """Convert a ReceiveMessage entry to the record shape Lambda delivers."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _disable_moto_polling(function_names: Iterable[str], region: str) -> None:
    """Turn off moto's own delivery of queue messages to the functions.

    moto would try to run the function in Docker on every SendMessage. Here the
    drain helper delivers the messages to the handler in this process instead.
    """
    client = boto3.client("lambda", region_name=region)
    for name in function_names:
        mappings = client.list_event_source_mappings(FunctionName=name)
        for mapping in mappings.get("EventSourceMappings", []):
            client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)


def _tap_queue(sns: Any, topic_arn: str, region: str) -> str:
    sqs = boto3.client("sqs", region_name=region)
    name = f"local-tap-{topic_arn.rsplit(':', 1)[-1]}"[:80]
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return str(url)


def _create_skipped(
    skipped: Mapping[str, Any], resolver: _Resolver, region: str
) -> str | None:
    """Create the resources moto's CloudFormation skips; return the schedule name."""
    schedule_name = None
    for name, resource in skipped.items():
        condition = resource.get("Condition")
        if condition and not resolver.condition(condition):
            continue
        properties = resolver.resolve(resource.get("Properties", {}))
        kind = resource["Type"]
        if kind == "AWS::Scheduler::Schedule":
            scheduler = boto3.client("scheduler", region_name=region)
            schedule_name = properties.get("Name", name)
            scheduler.create_schedule(
                Name=schedule_name,
                ScheduleExpression=properties["ScheduleExpression"],
                FlexibleTimeWindow=properties["FlexibleTimeWindow"],
                Target={
                    "Arn": properties["Target"]["Arn"],
                    "RoleArn": properties["Target"]["RoleArn"],
                },
            )
        elif kind == "AWS::SNS::Subscription":
            attributes = {}
            if properties.get("RawMessageDelivery"):
                attributes["RawMessageDelivery"] = "true"
            boto3.client("sns", region_name=region).subscribe(
                TopicArn=properties["TopicArn"],
                Protocol=properties["Protocol"],
                Endpoint=properties["Endpoint"],
                Attributes=attributes,
            )
        elif kind == "AWS::SQS::QueuePolicy":
            sqs = boto3.client("sqs", region_name=region)
            for queue_url in properties["Queues"]:
                sqs.set_queue_attributes(
                    QueueUrl=queue_url,
                    Attributes={"Policy": json.dumps(properties["PolicyDocument"])},
                )
        elif kind == "AWS::CloudWatch::Alarm":
            boto3.client("cloudwatch", region_name=region).put_metric_alarm(
                AlarmName=f"{name}-{uuid.uuid4().hex[:8]}",
                AlarmDescription=properties.get("AlarmDescription", ""),
                Namespace=properties["Namespace"],
                MetricName=properties["MetricName"],
                Dimensions=properties.get("Dimensions", []),
                Statistic=properties["Statistic"],
                Period=int(properties["Period"]),
                EvaluationPeriods=int(properties["EvaluationPeriods"]),
                Threshold=float(properties["Threshold"]),
                ComparisonOperator=properties["ComparisonOperator"],
                TreatMissingData=properties.get("TreatMissingData", "missing"),
                AlarmActions=properties.get("AlarmActions", []),
            )
    return schedule_name


class _Resolver:
    """Resolves the few intrinsics the skipped resources use, after deployment."""

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str],
        physical: Mapping[str, str],
        region: str,
    ) -> None:
        defaults = {
            name: str(spec.get("Default", ""))
            for name, spec in template.get("Parameters", {}).items()
        }
        self._parameters = {**defaults, **parameters}
        self._template = template
        self._physical = physical
        self._region = region

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(self._template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self._ref(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            target, attribute = value["Fn::GetAtt"]
            return self._get_att(target, attribute)
        return {key: self.resolve(item) for key, item in value.items()}

    def _evaluate(self, expression: Any) -> Any:
        if isinstance(expression, dict):
            ((function, arguments),) = expression.items()
            if function == "Fn::Not":
                return not self._evaluate(arguments[0])
            if function == "Fn::Equals":
                return self._evaluate(arguments[0]) == self._evaluate(arguments[1])
            if function == "Fn::And":
                return all(self._evaluate(item) for item in arguments)
            if function == "Fn::Or":
                return any(self._evaluate(item) for item in arguments)
            if function == "Condition":
                return self.condition(arguments)
            return self.resolve(expression)
        return expression

    def _ref(self, name: str) -> str:
        if name in self._parameters:
            return self._parameters[name]
        return self._physical[name]

    def _get_att(self, target: str, attribute: str) -> str:
        kind = self._template["Resources"][target]["Type"]
        physical = self._physical[target]
        if kind == "AWS::Lambda::Function" and attribute == "Arn":
            client = boto3.client("lambda", region_name=self._region)
            return str(
                client.get_function(FunctionName=physical)["Configuration"][
                    "FunctionArn"
                ]
            )
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            client = boto3.client("iam", region_name=self._region)
            return str(client.get_role(RoleName=physical)["Role"]["Arn"])
        if kind == "AWS::SQS::Queue":
            client = boto3.client("sqs", region_name=self._region)
            arn = client.get_queue_attributes(
                QueueUrl=physical, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            return str(arn) if attribute == "Arn" else str(arn).rsplit(":", 1)[-1]
        raise ValueError(f"local stack cannot resolve Fn::GetAtt {target}.{attribute}")
