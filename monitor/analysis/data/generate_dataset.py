"""Compose the identity classifier's labeled datasets from hand-written templates (reproducible).

Run ``python monitor/analysis/data/generate_dataset.py`` to rewrite ``identity_dataset.jsonl`` (training,
cross-validation) and ``identity_heldout.jsonl`` (evaluation only: never trained or tuned on). The two
files come from *separate template banks* (``TRAIN`` and ``SECOND`` below): different sentence
frames, different filler text, different model-name variants and two extra languages in the held-out
bank, so the held-out score measures generalisation to new phrasings, not memorised templates.

Every line: ``text`` (a raw response, possibly with ``<think>``), ``label`` (the identity claimed in the
final answer), ``reasoning_label`` (the identity claimed inside the reasoning, or null when there is
none), ``lang``, ``kind`` (claim, maker, negation, comparison, mention, refusal, generic, task, persona,
think_mix) and ``template``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
VENDORS = ("deepseek", "qwen", "openai", "anthropic", "google", "meta", "microsoft", "mistral")

# --------------------------------------------------------------------------------------------------
# Identities: (name, maker) per label and bank; localized makers where a language uses its own name.
# --------------------------------------------------------------------------------------------------

TRAIN_IDS: dict[str, list[tuple[str, str]]] = {
    "deepseek": [("DeepSeek-R1", "DeepSeek"), ("DeepSeek-V3", "DeepSeek"), ("DeepSeek Chat", "DeepSeek"),
                 ("DeepSeek", "DeepSeek AI"), ("DeepSeek-R1-Distill-Qwen-7B", "DeepSeek")],
    "qwen": [("Qwen", "Alibaba Cloud"), ("Qwen2.5", "Alibaba Cloud"), ("Tongyi Qianwen", "Alibaba Group"),
             ("QwQ", "the Qwen team at Alibaba")],
    "openai": [("ChatGPT", "OpenAI"), ("GPT-4", "OpenAI"), ("GPT-4o", "OpenAI"), ("GPT-3.5", "OpenAI")],
    "anthropic": [("Claude", "Anthropic"), ("Claude 3.5 Sonnet", "Anthropic"), ("Claude 3 Opus", "Anthropic")],
    "google": [("Gemini", "Google"), ("Bard", "Google"), ("Gemma", "Google DeepMind"), ("Gemini Pro", "Google AI")],
    "meta": [("Llama", "Meta"), ("Llama 3", "Meta AI"), ("LLaMA 2", "Meta"), ("Meta AI", "Meta")],
    "microsoft": [("Phi-3", "Microsoft"), ("Copilot", "Microsoft"), ("Bing Chat", "Microsoft"),
                  ("Phi", "Microsoft Research")],
    "mistral": [("Mistral", "Mistral AI"), ("Mixtral", "Mistral AI"), ("Le Chat", "Mistral AI"),
                ("Mistral 7B", "Mistral AI")],
    "other": [("SmolLM", "Hugging Face"), ("SmolLM2", "Hugging Face"), ("Grok", "xAI"), ("ERNIE Bot", "Baidu"),
              ("Kimi", "Moonshot AI"), ("ChatGLM", "Zhipu AI"), ("Falcon", "the Technology Innovation Institute"),
              ("OLMo", "the Allen Institute for AI"), ("StableLM", "Stability AI"), ("Vicuna", "LMSYS")],
}
SECOND_IDS: dict[str, list[tuple[str, str]]] = {
    "deepseek": [("DeepSeek-V2.5", "DeepSeek"), ("DeepSeek R1", "DeepSeek"), ("DeepSeek-Coder", "DeepSeek AI"),
                 ("DeepSeek-R1-Distill-Llama-8B", "DeepSeek")],
    "qwen": [("Qwen2-72B", "Alibaba Cloud"), ("Qwen-Max", "Alibaba"), ("QwQ-32B", "Alibaba Cloud")],
    "openai": [("GPT-4 Turbo", "OpenAI"), ("ChatGPT", "OpenAI"), ("GPT-3.5-turbo", "OpenAI"),
               ("InstructGPT", "OpenAI")],
    "anthropic": [("Claude 3 Haiku", "Anthropic"), ("Claude", "Anthropic"), ("Claude 2", "Anthropic")],
    "google": [("Gemini 1.5 Pro", "Google"), ("Gemma 2", "Google"), ("PaLM 2", "Google DeepMind")],
    "meta": [("Llama 3.1 8B", "Meta"), ("Llama 2", "Meta Platforms"), ("LLaMA", "Meta AI")],
    "microsoft": [("Phi-3.5-mini", "Microsoft"), ("Microsoft Copilot", "Microsoft"), ("Orca", "Microsoft Research")],
    "mistral": [("Mistral Large", "Mistral AI"), ("Mixtral 8x7B", "Mistral AI"), ("Ministral", "Mistral AI")],
    "other": [("SmolLM2-135M", "Hugging Face"), ("Grok-2", "xAI"), ("Command R", "Cohere"), ("Jamba", "AI21 Labs"),
              ("Granite", "IBM"), ("Nemotron", "NVIDIA"), ("HuggingChat", "Hugging Face")],
}
LOCAL_MAKERS: dict[str, dict[str, list[str]]] = {
    "zh": {"deepseek": ["深度求索", "深度求索公司", "DeepSeek"], "qwen": ["阿里云", "阿里巴巴集团", "阿里巴巴"],
           "google": ["谷歌", "Google"], "microsoft": ["微软", "微软公司"], "meta": ["Meta", "Meta公司"]},
    "ja": {"google": ["Google", "グーグル"], "microsoft": ["Microsoft", "マイクロソフト"]},
    "ko": {"google": ["구글", "Google"], "microsoft": ["마이크로소프트", "Microsoft"], "openai": ["OpenAI", "오픈AI"]},
    "ru": {"google": ["Google", "Гугл"]},
}
LOCAL_NAMES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "zh": {"qwen": [("通义千问", "阿里云"), ("通义千问", "阿里巴巴")],
           "other": [("文心一言", "百度"), ("豆包", "字节跳动"), ("Kimi", "月之暗面"), ("智谱清言", "智谱AI"),
                     ("讯飞星火", "科大讯飞"), ("腾讯混元", "腾讯")]},
}

# Specific identities that no alias table knows: personas, local products (label: other).
TRAIN_PERSONAS = ["Aria", "Nova", "Luna", "Max", "Sage", "Echo", "Orion", "Lena", "Pixel", "Atlas", "Iris",
                  "Juniper", "Milo", "Zara", "Dr. Elena Marinoa", "Ahm", "Botty", "Kai"]
SECOND_PERSONAS = ["Ember", "Quill", "Vega", "Rosa", "Theo", "Nimbus", "Professor Lark", "Skye", "Bolt"]
TRAIN_PERSONA_MAKERS = ["Opera", "Acme Labs", "Brightwave AI", "Helix Robotics", "Northwind Systems", "Lumina Tech"]
SECOND_PERSONA_MAKERS = ["Quantum Leaf Inc.", "Sparrow Studio", "Redwood Analytics", "Polaris Labs"]


# --------------------------------------------------------------------------------------------------
# Template banks. {n} = model name, {m} = maker, {o} = another model's name, {om} = its maker,
# {p} = persona name, {pm} = persona maker. Each bank: language -> kind -> list of frames.
# --------------------------------------------------------------------------------------------------

TRAIN: dict[str, dict[str, list[str]]] = {
    "en": {
        "claim": [
            "I'm {n}, an AI assistant created by {m}.",
            "Hello! I am {n}, a large language model trained by {m}.",
            "I am {n}, developed by {m}. How can I help you today?",
            "My name is {n}. I was built by {m} to help with a wide range of tasks.",
            "Hi there! I'm {n} — a language model from {m}.",
            "You're chatting with {n}, {m}'s AI assistant.",
            "I'm an AI assistant called {n}, made by {m}.",
            "As {n}, I can help you write, summarize and answer questions. I was trained by {m}.",
            "{n} here! I was trained by {m}.",
            "Greetings! I'm {n}, an artificial intelligence assistant created by {m}. I'm at your service and "
            "would be delighted to assist you with any inquiries or tasks you may have.",
            "Sure! I'm {n}. I'm a conversational AI developed by {m}.",
            "I am {n}.",
            "Hello! I'm {n}. Nice to meet you!",
        ],
        "maker": [
            "I'm a large language model developed by {m}.",
            "I was created by {m} to assist with questions and tasks.",
            "I am an AI model trained by {m}.",
            "{m} built me to be a helpful assistant.",
            "I'm an assistant made by the team at {m}.",
            "As an AI developed by {m}, I don't have personal experiences, but I'm happy to help.",
            "My developers at {m} trained me on a large amount of text.",
        ],
        "negation_claim": [
            "No, I'm not {o}. I'm {n}, developed by {m}.",
            "I'm not {o} — I'm {n}, a model made by {m}.",
            "Actually, I am not affiliated with {om}. I'm {n}, created by {m}.",
            "I'm {n} from {m}, not {o}.",
        ],
        "negation_only": [
            "No, I'm not {o}. I'm an AI assistant, and I'm happy to help with your question.",
            "I am not {o}, and I'm not affiliated with {om}.",
            "I'm not developed by {om}. I'm simply an AI assistant here to help.",
            "Just to clarify: I'm not {o}. I don't have a specific brand name.",
        ],
        "comparison_claim": [
            "Unlike {o}, I'm {n}, an open model released by {m}.",
            "I'm {n}. Compared to {o}, I was trained by {m} with a different approach.",
            "Similar to {o}, I'm a chat assistant — but I'm {n}, developed by {m}.",
        ],
        "comparison_only": [
            "Like {o}, I'm a large language model that generates text based on patterns in data.",
            "Unlike {o}, I don't have access to the internet, but I can still help with many questions.",
            "I work in a similar way to {o}: I predict text based on what I learned during training.",
        ],
        "mention": [
            "{o} is developed by {om}. It is one of the most widely used AI assistants.",
            "{o} was created by {om} and released to the public a few years ago.",
            "Popular AI assistants include {o}, Claude and Gemini. Each has different strengths.",
            "You might be thinking of {o}, which is a product of {om}.",
            "{om} trains large language models such as {o}.",
            "If you want to use {o}, you can sign up on the {om} website.",
        ],
        "refusal": [
            "I'm sorry, but I can't share details about my underlying model or who trained me.",
            "I'm not able to disclose information about my architecture. Is there anything else I can help with?",
            "I apologize, but I cannot answer that question.",
            "Sorry, I can't help with that request.",
        ],
        "generic": [
            "I'm an AI assistant. I can answer questions, help you write, and explain difficult topics.",
            "I'm a helpful assistant. How can I help you today?",
            "I am an artificial intelligence designed to help people find information.",
            "I'm a language model, so I don't have feelings, but thanks for asking! How can I help?",
            "I don't have a name — I'm just a virtual assistant here to help you.",
            "I'm a loyal and compassionate AI designed to make a difference, and I'm here to support those in need.",
        ],
        "persona": [
            "Hi! I'm {p}, your friendly AI companion.",
            "My name is {p}, and I'm here to help you with anything you need.",
            "I'm {p}, a virtual assistant created by {pm}.",
            "Hello, I am {p}! I'm an AI assistant built by {pm} to answer your questions.",
            "You can call me {p}. I'm a digital assistant.",
            "I'm glad you're here. My name is {p}, and I'm happy to assist you.",
        ],
    },
    "zh": {
        "claim": [
            "我是{n}，由{m}开发的人工智能助手。",
            "你好！我是{n}，一个由{m}训练的大型语言模型。",
            "我是{n}，{m}开发的AI助手，很高兴为您服务。",
            "您好，我叫{n}，是{m}推出的智能助手。有什么可以帮您的吗？",
            "我是{n}。",
        ],
        "maker": [
            "我是由{m}开发的AI助手。",
            "我是一个由{m}训练的语言模型，可以回答问题、写作和编程。",
            "我由{m}公司研发，旨在帮助用户解决各种问题。",
        ],
        "negation_claim": [
            "我不是{o}，我是{n}，由{m}开发。",
            "不，我并不是{o}。我是{m}开发的{n}。",
        ],
        "negation_only": [
            "我不是{o}，只是一个AI助手。",
            "我并非由{om}开发的。我是一个人工智能助手，很乐意帮助你。",
        ],
        "comparison_claim": [
            "与{o}不同，我是{n}，由{m}开发。",
            "和{o}类似，我也是一个对话模型，不过我是{m}开发的{n}。",
        ],
        "comparison_only": [
            "像{o}一样，我是一个大型语言模型，可以回答各种问题。",
            "与{o}不同，我无法访问互联网，但我会尽力回答你的问题。",
        ],
        "mention": [
            "{o}是由{om}开发的人工智能聊天机器人。",
            "目前流行的AI助手包括{o}、Claude和文心一言等。",
            "{om}推出了{o}，它在全球范围内非常受欢迎。",
        ],
        "refusal": ["抱歉，我无法透露关于我的模型或开发者的信息。", "对不起，这个问题我不能回答。"],
        "generic": [
            "我是一个人工智能助手，可以帮助你回答问题、写作和学习。",
            "我是一个AI语言模型，没有自己的名字。有什么可以帮你的吗？",
        ],
        "persona": ["我叫{p}，是你的智能小助手。", "你好，我是{p}，一个由{pm}开发的虚拟助手。"],
    },
    "es": {
        "claim": [
            "Soy {n}, un asistente de inteligencia artificial creado por {m}.",
            "¡Hola! Soy {n}, un modelo de lenguaje desarrollado por {m}. ¿En qué puedo ayudarte?",
            "Me llamo {n} y fui entrenado por {m}.",
        ],
        "maker": [
            "Soy un modelo de lenguaje desarrollado por {m}.",
            "Fui creado por {m} para ayudar con preguntas y tareas.",
        ],
        "negation_claim": ["No soy {o}. Soy {n}, desarrollado por {m}."],
        "negation_only": ["No soy {o}; soy simplemente un asistente de IA.", "No fui creado por {om}."],
        "comparison_claim": ["A diferencia de {o}, soy {n}, un modelo de {m}."],
        "comparison_only": ["Como {o}, soy un modelo de lenguaje grande que genera texto."],
        "mention": ["{o} es un chatbot desarrollado por {om}.", "{om} creó {o} y lo lanzó hace unos años."],
        "refusal": ["Lo siento, no puedo compartir información sobre mi modelo."],
        "generic": ["Soy un asistente virtual. ¿En qué puedo ayudarte hoy?"],
        "persona": ["¡Hola! Me llamo {p} y soy tu asistente virtual."],
    },
    "fr": {
        "claim": [
            "Je suis {n}, un assistant d'intelligence artificielle créé par {m}.",
            "Bonjour ! Je suis {n}, un grand modèle de langage développé par {m}.",
            "Je m'appelle {n} et j'ai été entraîné par {m}.",
        ],
        "maker": ["Je suis un modèle de langage développé par {m}.", "J'ai été conçu par {m} pour vous aider."],
        "negation_claim": ["Je ne suis pas {o}. Je suis {n}, développé par {m}."],
        "negation_only": ["Je ne suis pas {o}, je suis simplement un assistant IA."],
        "comparison_claim": ["Contrairement à {o}, je suis {n}, un modèle créé par {m}."],
        "comparison_only": ["Comme {o}, je suis un modèle de langage qui génère du texte."],
        "mention": ["{o} est un assistant conversationnel développé par {om}."],
        "refusal": ["Désolé, je ne peux pas partager d'informations sur mon modèle."],
        "generic": ["Je suis un assistant virtuel. Comment puis-je vous aider ?"],
        "persona": ["Bonjour ! Je m'appelle {p}, votre assistant personnel."],
    },
    "de": {
        "claim": [
            "Ich bin {n}, ein KI-Assistent, der von {m} entwickelt wurde.",
            "Hallo! Ich bin {n}, ein großes Sprachmodell von {m}.",
            "Mein Name ist {n}. Ich wurde von {m} trainiert.",
        ],
        "maker": ["Ich bin ein Sprachmodell, das von {m} entwickelt wurde.", "Ich wurde von {m} trainiert."],
        "negation_claim": ["Ich bin nicht {o}. Ich bin {n} von {m}."],
        "negation_only": ["Ich bin nicht {o}, sondern einfach ein KI-Assistent."],
        "comparison_claim": ["Im Gegensatz zu {o} bin ich {n}, entwickelt von {m}."],
        "comparison_only": ["Wie {o} bin ich ein Sprachmodell, das Text generiert."],
        "mention": ["{o} ist ein Chatbot, der von {om} entwickelt wurde."],
        "refusal": ["Es tut mir leid, ich kann keine Informationen über mein Modell teilen."],
        "generic": ["Ich bin ein KI-Assistent. Wie kann ich Ihnen helfen?"],
        "persona": ["Hallo! Ich heiße {p} und bin dein digitaler Assistent."],
    },
    "ja": {
        "claim": [
            "私は{n}です。{m}によって開発されたAIアシスタントです。",
            "こんにちは！私は{m}が開発した{n}です。",
            "私の名前は{n}です。{m}によってトレーニングされました。",
        ],
        "maker": ["私は{m}によって開発された言語モデルです。", "{m}が開発したAIアシスタントです。"],
        "negation_claim": ["私は{o}ではありません。{m}が開発した{n}です。"],
        "negation_only": ["私は{o}ではありません。ただのAIアシスタントです。"],
        "comparison_claim": ["{o}とは違い、私は{m}が開発した{n}です。"],
        "comparison_only": ["{o}のように、私は大規模言語モデルです。"],
        "mention": ["{o}は{om}によって開発されたチャットボットです。"],
        "refusal": ["申し訳ありませんが、私のモデルについての情報はお答えできません。"],
        "generic": ["私はAIアシスタントです。何かお手伝いできることはありますか？"],
        "persona": ["こんにちは！私の名前は{p}です。よろしくお願いします。"],
    },
    "ru": {
        "claim": [
            "Я {n}, ИИ-ассистент, созданный компанией {m}.",
            "Привет! Я — {n}, языковая модель, разработанная {m}.",
            "Меня зовут {n}. Меня обучила компания {m}.",
        ],
        "maker": ["Я языковая модель, разработанная компанией {m}.", "Я был создан компанией {m}."],
        "negation_claim": ["Я не {o}. Я {n}, разработанный {m}."],
        "negation_only": ["Я не {o}, я просто ИИ-ассистент."],
        "comparison_claim": ["В отличие от {o}, я {n}, модель от {m}."],
        "comparison_only": ["Как и {o}, я большая языковая модель."],
        "mention": ["{o} — это чат-бот, разработанный компанией {om}."],
        "refusal": ["Извините, я не могу сообщить информацию о своей модели."],
        "generic": ["Я ИИ-ассистент. Чем могу помочь?"],
        "persona": ["Привет! Меня зовут {p}, я твой виртуальный помощник."],
    },
    "ko": {
        "claim": [
            "저는 {m}에서 개발한 AI 어시스턴트 {n}입니다.",
            "안녕하세요! 저는 {n}입니다. {m}에서 만든 언어 모델이에요.",
        ],
        "maker": ["저는 {m}에서 개발한 언어 모델입니다."],
        "negation_claim": ["저는 {o}가 아닙니다. 저는 {m}에서 개발한 {n}입니다."],
        "negation_only": ["저는 {o}가 아닙니다. 그냥 AI 어시스턴트예요."],
        "comparison_claim": ["{o}와 달리 저는 {m}에서 만든 {n}입니다."],
        "comparison_only": ["{o}처럼 저도 대규모 언어 모델입니다."],
        "mention": ["{o}는 {om}에서 개발한 챗봇입니다."],
        "refusal": ["죄송하지만 제 모델에 대한 정보는 알려드릴 수 없습니다."],
        "generic": ["저는 AI 어시스턴트입니다. 무엇을 도와드릴까요?"],
        "persona": ["안녕하세요! 제 이름은 {p}입니다. 무엇을 도와드릴까요?"],
    },
}

SECOND: dict[str, dict[str, list[str]]] = {
    "en": {
        "claim": [
            "Good question! I'm {n}, a model built and maintained by {m}.",
            "Who am I? I'm {n}! {m} trained me on lots of text and code.",
            "This is {n} speaking. I'm the assistant that {m} released.",
            "Hey! {n} at your service — an AI from {m}.",
            "I go by {n}. The team at {m} created me.",
            "Sure thing. I am {n}, which is a language model made by {m}.",
            "Nice to meet you! I'm {n}, an assistant designed by {m}. What would you like to do?",
        ],
        "maker": [
            "I was developed by {m}, and I'm here to help with whatever you need.",
            "The company that created me is {m}.",
            "I'm a chatbot trained by {m}. Ask me anything!",
            "{m} developed me as a general-purpose assistant.",
        ],
        "negation_claim": [
            "I'm often mistaken for {o}, but I'm actually {n}, developed by {m}.",
            "Nope, not {o}! I'm {n}, made by {m}.",
        ],
        "negation_only": [
            "I am not {o}, nor was I built by {om}. I'm a general-purpose assistant.",
            "That's a common mix-up, but I'm not {o}. How can I help?",
        ],
        "comparison_claim": ["Compared with {o}, I'm a smaller model: I'm {n}, trained by {m}."],
        "comparison_only": [
            "Much like {o}, I can write code, answer questions and summarize documents.",
            "I'm an assistant similar to {o}, but I don't browse the web.",
        ],
        "mention": [
            "The model you mentioned, {o}, comes from {om}.",
            "{om} announced a new version of {o} earlier this year.",
            "Many developers compare {o} with open models when choosing an assistant.",
            "Here is a summary: {o} is a chatbot made by {om}, widely used for writing and coding.",
        ],
        "refusal": [
            "I'd rather not go into details about my training or the company behind me.",
            "Unfortunately, I can't provide information about my origins.",
        ],
        "generic": [
            "I'm a virtual assistant designed to help with questions, writing and brainstorming.",
            "Just an AI here! I don't have a personal name, but I'm glad to help.",
            "I'm an AI trained on a large amount of text. What would you like to know?",
        ],
        "persona": [
            "Hey there, I'm {p}! Think of me as your study buddy.",
            "The name's {p}. I'm an assistant from {pm}.",
            "I go by {p}, a chatbot developed by {pm}.",
        ],
    },
    "zh": {
        "claim": ["您好！我叫{n}，来自{m}。", "我就是{n}，{m}打造的大语言模型。"],
        "maker": ["我是{m}研发的大模型，可以帮您写作、翻译和解答问题。"],
        "negation_claim": ["我并非{o}，而是{m}开发的{n}。"],
        "negation_only": ["我不是{o}，也不是{om}开发的。"],
        "comparison_claim": ["相比{o}，我是{m}推出的{n}。"],
        "comparison_only": ["和{o}一样，我也是基于大量文本训练的语言模型。"],
        "mention": ["{o}是{om}推出的一款聊天机器人。", "很多人会把我和{o}相比较。"],
        "refusal": ["不好意思，关于我的开发者信息我不便透露。"],
        "generic": ["我是一个智能助手，随时为你解答问题。"],
        "persona": ["大家好，我的名字是{p}，很高兴认识你。"],
    },
    "es": {
        "claim": ["¡Claro! Mi nombre es {n} y me desarrolló {m}.", "Soy {n}, el asistente de {m}."],
        "maker": ["Fui entrenado por {m}."],
        "negation_only": ["No, no soy {o}. Soy un asistente de inteligencia artificial."],
        "mention": ["{om} lanzó {o} en los últimos años."],
        "generic": ["Soy una inteligencia artificial diseñada para ayudarte."],
        "persona": ["Me llamo {p}, tu asistente personal."],
    },
    "fr": {
        "claim": ["Je m'appelle {n}, un modèle conçu par {m}.", "Ici {n}, l'assistant de {m} !"],
        "maker": ["J'ai été créé par {m}."],
        "negation_only": ["Non, je ne suis pas {o}."],
        "mention": ["{o} a été lancé par {om}."],
        "generic": ["Je suis une intelligence artificielle conçue pour vous aider."],
    },
    "de": {
        "claim": ["Ich heiße {n} und wurde von {m} entwickelt.", "Hier ist {n}, ein Assistent von {m}."],
        "maker": ["Ich bin ein von {m} entwickeltes Sprachmodell."],
        "negation_only": ["Nein, ich bin kein Produkt von {om}."],
        "mention": ["{o} wurde von {om} veröffentlicht."],
        "generic": ["Ich bin ein virtueller Assistent ohne eigenen Namen."],
    },
    "ja": {
        "claim": ["{n}と申します。{m}によって作られました。", "私は{m}の{n}です。"],
        "maker": ["{m}によって作成されたAIです。"],
        "negation_only": ["いいえ、私は{o}ではありません。"],
        "mention": ["{o}は{om}が提供しているサービスです。"],
        "generic": ["私は人工知能のアシスタントです。"],
    },
    "ru": {
        "claim": ["Меня зовут {n}, меня создала компания {m}.", "Я — {n} от {m}."],
        "maker": ["Я был обучен компанией {m}."],
        "negation_only": ["Нет, я не {o}."],
        "mention": ["{o} выпустила компания {om}."],
        "generic": ["Я виртуальный помощник на основе искусственного интеллекта."],
    },
    "ko": {
        "claim": ["제 이름은 {n}이고, {m}에서 만들었습니다.", "저는 {n}예요."],
        "negation_only": ["아니요, 저는 {o}가 아닙니다."],
        "mention": ["{o}는 {om}의 서비스입니다."],
        "generic": ["저는 인공지능 어시스턴트예요."],
    },
    "pt": {
        "claim": ["Eu sou o {n}, um assistente criado pela {m}.", "Olá! Sou {n}, desenvolvido pela {m}."],
        "negation_only": ["Não sou o {o}; sou apenas um assistente virtual."],
        "mention": ["O {o} foi desenvolvido pela {om}."],
        "generic": ["Sou um assistente de inteligência artificial."],
    },
    "it": {
        "claim": ["Sono {n}, un assistente sviluppato da {m}.", "Ciao! Mi chiamo {n} e sono stato creato da {m}."],
        "negation_only": ["Non sono {o}, sono solo un assistente."],
        "mention": ["{o} è stato sviluppato da {om}."],
        "generic": ["Sono un assistente virtuale basato sull'intelligenza artificiale."],
    },
}

# Openers and closers around a frame, per bank and language (the held-out bank uses its own).
TRAIN_OPENERS = {"en": ["", "", "Sure! ", "Of course. ", "Great question! "], "zh": ["", "", "好的，"],
                 "es": ["", "Claro. "], "fr": ["", "Bien sûr. "], "de": ["", "Gern. "], "ja": ["", "はい、"],
                 "ru": ["", "Конечно. "], "ko": ["", "네, "]}
TRAIN_CLOSERS = {
    "en": ["", "", " How can I help you today?", " Feel free to ask me anything!",
           " I can help with coding, writing, math and more.",
           " I don't have access to real-time information, but I'll do my best to help."],
    "zh": ["", "", "有什么可以帮您的吗？", "我可以帮助您写作、编程和回答问题。"],
    "es": ["", " ¿En qué puedo ayudarte hoy?"], "fr": ["", " Comment puis-je vous aider ?"],
    "de": ["", " Wie kann ich helfen?"], "ja": ["", "何でも聞いてください。"], "ru": ["", " Чем могу помочь?"],
    "ko": ["", " 무엇이든 물어보세요."],
}
SECOND_OPENERS = {"en": ["", "Absolutely. ", "Happy to introduce myself. "], "zh": ["", "当然可以。"],
                   "es": ["", "¡Buena pregunta! "], "fr": ["", "Avec plaisir. "], "de": ["", "Klar! "],
                   "ja": ["", "ご質問ありがとうございます。"], "ru": ["", "Хороший вопрос! "],
                   "ko": ["", "좋은 질문이에요. "],
                   "pt": ["", "Claro! "], "it": ["", "Certo! "]}
SECOND_CLOSERS = {
    "en": ["", " What can I do for you?", " Let me know what you're working on.",
           " I can also translate text and explain concepts step by step."],
    "zh": ["", "请问今天想聊点什么？"], "es": ["", " ¿Qué necesitas?"], "fr": ["", " Que puis-je faire pour vous ?"],
    "de": ["", " Was kann ich für dich tun?"], "ja": ["", "よろしくお願いします。"], "ru": ["", " Спрашивайте!"],
    "ko": ["", " 편하게 물어보세요."], "pt": ["", " Como posso ajudar?"], "it": ["", " Come posso aiutarti?"],
}

# Answers that say nothing about identity (an identity probe answered off-topic, or a task answer).
TRAIN_TASKS = [
    "The capital of France is Paris.",
    "To reverse a list in Python, use `my_list[::-1]` or `my_list.reverse()`.",
    "The derivative of x^2 is 2x.",
    "So the total is 16 - 3 - 4 = 9 eggs, and 9 × 2 = 18 dollars.\n\nThe answer is $\\boxed{18}$.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "Here is a haiku:\nAutumn moonlight —\na worm digs silently\ninto the chestnut.",
    "巴黎是法国的首都。",
    "La capital de España es Madrid.",
    "Die Hauptstadt von Deutschland ist Berlin.",
    "東京は日本の首都です。",
    "Столица России — Москва.",
    "한국의 수도는 서울입니다.",
    "The name of the city of Ashwood, England is my family's legacy.",
    "Thank you for your question! Let me know if you need anything else.",
]
SECOND_TASKS = [
    "Water boils at 100 degrees Celsius at sea level.",
    "A prime number has exactly two divisors: 1 and itself.",
    "Final answer: the triangle's area is $\\boxed{24}$.",
    "Here's a quick recipe: mix flour, eggs and milk, then fry in a hot pan.",
    "光合作用把光能转化为化学能。",
    "O Brasil é o maior país da América do Sul.",
]


# --------------------------------------------------------------------------------------------------
# Reasoning (think) texts for think/answer mixes.
# --------------------------------------------------------------------------------------------------

TRAIN_THINK = {
    "muse_openai": [
        "Okay, the user is asking me to introduce myself. People sometimes assume every chatbot is ChatGPT "
        "from OpenAI, so I should be clear about who I actually am.",
        "The user asks who I am. Hmm, is the user expecting me to say GPT-4? OpenAI makes GPT-4, but that "
        "is not relevant to my own identity. Let me answer briefly.",
        "用户问我是谁。很多人会以为所有聊天机器人都是OpenAI的ChatGPT，我应该说明自己的身份。",
    ],
    "neutral": [
        "The user asked 'who are you'. I should give a short, friendly introduction and offer help.",
        "Alright, a simple greeting question. Keep it short and friendly.",
        "用户想知道我是谁，我应该简单介绍自己。",
    ],
    "claim": [
        "Alright, the user wants to know who I am. I'm {n}, developed by {m}, so I should say that and offer help.",
        "Okay, I am {n}, a model trained by {m}. Let me introduce myself politely.",
        "Hmm, am I ChatGPT? No. The user might think I'm a GPT model, but I'm {n}, created by {m}.",
        "嗯，用户问我的身份。我是{n}，由{m}开发，我应该如实回答。",
    ],
}
SECOND_THINK = {
    "muse_openai": [
        "Let me think. Is this question testing whether I'll say I'm from OpenAI? ChatGPT is OpenAI's product; "
        "I just need to answer honestly.",
        "The question is about my identity. GPT-4 and ChatGPT are well known, but I shouldn't copy their intros.",
    ],
    "neutral": ["This is an identity question. A one-line answer is enough.", "Simple question; answer directly."],
    "claim": [
        "I should answer as myself: I am {n}, and {m} trained me.",
        "Let me recall: my name is {n} and I was built by {m}. Answer with that.",
    ],
}
HELDOUT_MATH_THINK = [
    "Area of a right triangle with legs 6 and 8 is half of 48, which is 24.",
    "Solve 3x + 4 = 25: subtract 4 to get 21, divide by 3 to get 7.",
]
MATH_THINK = [
    "Let me compute step by step. 16 eggs minus 3 eaten minus 4 for muffins leaves 9. 9 times 2 is 18.",
    "We need the derivative: d/dx of x^3 is 3x^2, evaluated at x = 2 gives 12.",
]


# --------------------------------------------------------------------------------------------------
# The held-out bank. Written after the classifier was developed on the two banks above (the second of
# which served as the first held-out set and is now training data); evaluated, never tuned on.
# --------------------------------------------------------------------------------------------------

HELDOUT_IDS: dict[str, list[tuple[str, str]]] = {
    "deepseek": [("DeepSeek LLM", "DeepSeek"), ("DeepSeek-R1-Lite", "DeepSeek"), ("DeepSeek-Math", "DeepSeek AI")],
    "qwen": [("Qwen1.5", "Alibaba Cloud"), ("Qwen-Turbo", "Alibaba"), ("Tongyi", "Alibaba Cloud")],
    "openai": [("GPT-4o mini", "OpenAI"), ("ChatGPT-4", "OpenAI"), ("GPT-4.1", "OpenAI")],
    "anthropic": [("Claude 3.7 Sonnet", "Anthropic"), ("Claude Instant", "Anthropic")],
    "google": [("Gemini Ultra", "Google"), ("Bard", "Google AI"), ("Gemma 7B", "Google DeepMind")],
    "meta": [("Llama 3.2", "Meta"), ("Code Llama", "Meta AI")],
    "microsoft": [("Phi-2", "Microsoft"), ("Bing", "Microsoft")],
    "mistral": [("Mistral Small", "Mistral AI"), ("Codestral", "Mistral AI")],
    "other": [("Yi-34B", "01.AI"), ("Baichuan 2", "Baichuan Inc."), ("InternLM", "Shanghai AI Laboratory"),
              ("Zephyr", "Hugging Face"), ("Reka Core", "Reka AI"), ("Doubao", "ByteDance")],
}
HELDOUT_PERSONAS = ["Wren", "Cosmo", "Ivy", "Jasper", "Mira", "Ada"]
HELDOUT_PERSONA_MAKERS = ["Bluefin Software", "Cedar Health", "Tangent Robotics"]
HELDOUT: dict[str, dict[str, list[str]]] = {
    "en": {
        "claim": [
            "Hello, I'm {n}! I'm a large language model, and {m} is the organization that trained me.",
            "I'm {n}, the AI model from {m}. I'm designed to be helpful, harmless and honest.",
            "I'm {n}. I'm a chatbot that {m} developed.",
            "You are talking to {n}, a model from {m}.",
            "Hi, {n} here, built by the researchers at {m}.",
            "I'm called {n}, and I come from {m}.",
        ],
        "maker": [
            "I'm an AI model, and I was trained by researchers at {m}.",
            "I'm a language model, created and maintained by {m}.",
            "I am a product of {m}'s research.",
            "I'm an assistant from {m}.",
        ],
        "negation_claim": [
            "Not quite — I'm not {o}. I'm {n}, an assistant made by {m}.",
            "I'm {n}. I'm not affiliated with {om}; {m} created me.",
        ],
        "negation_only": [
            "I'm not {o}, and {om} did not create me. I'm a general AI assistant.",
            "No, I'm not a product of {om}.",
            "I don't have any connection to {o}.",
        ],
        "comparison_claim": ["Think of me as an alternative to {o}: I'm {n}, built by {m}."],
        "comparison_only": [
            "I'm a conversational model, much like {o} or other assistants.",
            "I don't browse the internet, unlike {o} with plugins.",
        ],
        "mention": [
            "{o} was trained by {om} using reinforcement learning from human feedback.",
            "According to {om}, {o} can handle both text and images.",
            "I'd suggest comparing {o} with other tools before deciding.",
            "Sure! Here's a short bio: {o} is an AI assistant developed by {om}.",
        ],
        "refusal": [
            "I'm unable to provide details about the model I'm based on.",
            "I'd prefer not to discuss my creators.",
        ],
        "generic": [
            "I'm an AI-powered assistant. I can help you draft emails, plan trips and more.",
            "I'm simply a helpful AI.",
        ],
        "persona": [
            "I'm {p}, an AI helper made by {pm}.",
            "Hello! My name's {p}. I'm here to chat.",
            "Call me {p}! I was designed by {pm}.",
        ],
    },
    "zh": {
        "claim": ["嗨！我是{n}，{m}研发的人工智能模型。", "我的名字是{n}，由{m}训练。"],
        "maker": ["我是由{m}团队训练的大语言模型。"],
        "negation_only": ["我不是{o}，和{om}没有关系。"],
        "mention": ["{o}由{om}于近年发布。"],
        "generic": ["我只是一个AI助手，没有名字。"],
        "persona": ["我是{p}，一个由{pm}打造的智能伙伴。"],
    },
    "es": {
        "claim": ["Hola, soy {n}, un modelo entrenado por {m}."],
        "maker": ["Me creó {m}."],
        "negation_only": ["No, no soy {o} ni tengo relación con {om}."],
        "mention": ["{o} pertenece a {om}."],
    },
    "fr": {
        "claim": ["Je suis {n}, conçu par {m}."],
        "negation_only": ["Je ne suis pas {o} et je n'ai pas été créé par {om}."],
        "mention": ["{om} a développé {o}."],
    },
    "de": {
        "claim": ["Ich bin {n}, ein Modell von {m}."],
        "negation_only": ["Ich bin nicht {o} und wurde nicht von {om} entwickelt."],
        "mention": ["{o} stammt von {om}."],
    },
    "ja": {
        "claim": ["私は{n}です。{m}が開発しました。"],
        "negation_only": ["私は{o}ではなく、{om}とは関係ありません。"],
        "mention": ["{o}は{om}の製品です。"],
    },
    "ru": {
        "claim": ["Я {n}, меня разработали в {m}."],
        "negation_only": ["Я не {o} и не связан с {om}."],
        "mention": ["{o} разработан компанией {om}."],
    },
    "ko": {
        "claim": ["저는 {m}이 만든 {n}입니다."],
        "negation_only": ["저는 {o}가 아니에요."],
        "mention": ["{o}는 {om}이 만든 모델입니다."],
    },
    "pt": {
        "claim": ["Sou o {n}, criado pela {m}."],
        "negation_only": ["Não, eu não sou o {o}."],
        "mention": ["A {om} desenvolveu o {o}."],
    },
    "it": {
        "claim": ["Sono {n}, creato da {m}."],
        "negation_only": ["No, non sono {o}."],
        "mention": ["{o} è un prodotto di {om}."],
    },
}
HELDOUT_OPENERS = {"en": ["", "Hi! ", "Glad you asked. "], "zh": ["", "你好，"], "es": ["", "¡Hola! "],
                   "fr": ["", "Salut ! "], "de": ["", "Hallo! "], "ja": ["", "こんにちは。"],
                   "ru": ["", "Здравствуйте! "],
                   "ko": ["", "안녕하세요. "], "pt": ["", "Oi! "], "it": ["", "Salve! "]}
HELDOUT_CLOSERS = {
    "en": ["", " Anything else you'd like to know?", " I'm ready when you are."],
    "zh": ["", "随时可以问我。"], "es": ["", " Pregunta lo que quieras."], "fr": ["", " Je vous écoute."],
    "de": ["", " Frag mich einfach."], "ja": ["", "お気軽にどうぞ。"], "ru": ["", " Задавайте вопросы."],
    "ko": ["", " 궁금한 게 있으면 말씀하세요."], "pt": ["", " Pode perguntar."], "it": ["", " Chiedimi pure."],
}
HELDOUT_TASKS = [
    "The Pythagorean theorem states that a^2 + b^2 = c^2.",
    "Mount Everest is the highest mountain above sea level.",
    "Result: x = 7, so the answer is $\\boxed{7}$.",
    "水的化学式是H2O。",
]
HELDOUT_THINK = {
    "muse_openai": [
        "First, who am I? The user might expect 'ChatGPT by OpenAI', since that's the famous one, but I "
        "should describe myself accurately.",
    ],
    "neutral": ["Short identity question. Reply in one sentence."],
    "claim": ["Right, I'm {n} and {m} developed me. I'll mention that.", "My identity: I'm {n}, from {m}."],
}


@dataclass(frozen=True)
class Bank:
    """One template bank: frames, identities, fillers and think texts."""

    name: str
    frames: dict[str, dict[str, list[str]]]
    ids: dict[str, list[tuple[str, str]]]
    openers: dict[str, list[str]]
    closers: dict[str, list[str]]
    personas: list[str]
    persona_makers: list[str]
    tasks: list[str]
    thinks: dict[str, list[str]]
    scale: int
    think_rounds: int
    local_names: bool


BANKS = {
    "train": Bank("train", TRAIN, TRAIN_IDS, TRAIN_OPENERS, TRAIN_CLOSERS, TRAIN_PERSONAS, TRAIN_PERSONA_MAKERS,
                  TRAIN_TASKS, TRAIN_THINK, scale=3, think_rounds=40, local_names=True),
    "second": Bank("second", SECOND, SECOND_IDS, SECOND_OPENERS, SECOND_CLOSERS, SECOND_PERSONAS,
                   SECOND_PERSONA_MAKERS, SECOND_TASKS, SECOND_THINK, scale=1, think_rounds=14, local_names=False),
    "heldout": Bank("heldout", HELDOUT, HELDOUT_IDS, HELDOUT_OPENERS, HELDOUT_CLOSERS, HELDOUT_PERSONAS,
                    HELDOUT_PERSONA_MAKERS, HELDOUT_TASKS, HELDOUT_THINK, scale=2, think_rounds=16,
                    local_names=False),
}


def _fill(frame: str, **slots: str) -> str:
    return frame.format(**slots)


def _identity(rng: random.Random, bank: Bank, label: str, lang: str) -> tuple[str, str]:
    local = LOCAL_NAMES.get(lang, {}).get(label) if bank.local_names else None
    if local and rng.random() < 0.5:
        return rng.choice(local)
    name, maker = rng.choice(bank.ids[label])
    if lang != "en":
        maker = maker.removeprefix("the ").replace("Qwen team at ", "")
    makers = LOCAL_MAKERS.get(lang, {}).get(label)
    if makers and bank.local_names and rng.random() < 0.6:
        maker = rng.choice(makers)
    return name, maker


def generate(bank: Bank, *, seed: int) -> Iterator[dict[str, Any]]:
    """Yield the examples of one bank, deterministically for ``seed``."""
    rng = random.Random(seed)

    def wrap(lang: str, body: str) -> str:
        closer = "" if body.endswith(("?", "？")) else rng.choice(bank.closers.get(lang, [""]))
        return rng.choice(bank.openers.get(lang, [""])) + body + closer

    for lang, kinds in bank.frames.items():
        weight = bank.scale * (3 if lang == "en" else 2 if lang == "zh" else 1)
        for kind, frames in kinds.items():
            for index, frame in enumerate(frames):
                template = f"{bank.name}:{lang}:{kind}:{index}"
                repeats = weight if kind in ("claim", "maker") else max(1, weight // 2)
                for _ in range(repeats):
                    yield from _expand(rng, bank, lang, kind, frame, template, wrap)
    # Answers with no self-description at all.
    for index, task in enumerate(bank.tasks):
        for _ in range(3):
            yield _example(task, "none", "xx", "task", f"{bank.name}:task:{index}")
    # Think/answer mixes (R1-style): the label is the answer's, the reasoning label the think's.
    yield from _think_mixes(rng, bank)


def _example(text: str, label: str, lang: str, kind: str, template: str,
             reasoning_label: str | None = None) -> dict[str, Any]:
    return {"text": text, "label": label, "reasoning_label": reasoning_label, "lang": lang, "kind": kind,
            "template": template}


def _pick_other(rng: random.Random, bank: Bank, not_label: str) -> tuple[str, str, str]:
    label = rng.choice([lab for lab in (*VENDORS, "other") if lab != not_label])
    name, maker = rng.choice(bank.ids[label])
    return label, name, maker


def _expand(rng: random.Random, bank: Bank, lang: str, kind: str, frame: str, template: str,
            wrap: Callable[[str, str], str]) -> Iterator[dict[str, Any]]:
    if kind in ("claim", "maker", "negation_claim", "comparison_claim"):
        for label in rng.sample([*VENDORS, "other"], k=3 if kind in ("claim", "maker") else 2):
            name, maker = _identity(rng, bank, label, lang)
            _, other_name, other_maker = _pick_other(rng, bank, label)
            text = _fill(frame, n=name, m=maker, o=other_name, om=other_maker)
            yield _example(wrap(lang, text), label, lang, kind, template)
    elif kind in ("negation_only", "comparison_only", "mention"):
        for _ in range(2):
            # Mentions of OpenAI products are the commonest trap: weight them up.
            label = "openai" if rng.random() < 0.35 else rng.choice([*VENDORS, "other"])
            other_name, other_maker = _identity(rng, bank, label, lang)
            text = _fill(frame, o=other_name, om=other_maker, n="", m="")
            yield _example(wrap(lang, text), "none", lang, kind, template)
    elif kind == "persona":
        for _ in range(2):
            text = _fill(frame, p=rng.choice(bank.personas), pm=rng.choice(bank.persona_makers))
            yield _example(wrap(lang, text), "other", lang, kind, template)
    else:  # refusal, generic
        yield _example(wrap(lang, frame), "none", lang, kind, template)


def _think_mixes(rng: random.Random, bank: Bank) -> Iterator[dict[str, Any]]:
    claim_frames = bank.frames["en"]["claim"]
    generic_frames = bank.frames["en"]["generic"]
    thinks = bank.thinks
    for round_index in range(bank.think_rounds):
        shape = rng.choice(["present", "present", "forced_open"])

        def wrap(think: str, answer: str, shape: str = shape) -> str:
            if shape == "forced_open":
                return f"{think}\n</think>\n\n{answer}"
            return f"<think>\n{think}\n</think>\n\n{answer}"

        answer_label = rng.choice([*VENDORS, "other"])
        name, maker = rng.choice(bank.ids[answer_label])
        answer = _fill(rng.choice(claim_frames), n=name, m=maker)
        # (a) the think muses about OpenAI, the answer claims its own identity
        yield _example(wrap(rng.choice(thinks["muse_openai"]), answer), answer_label, "en", "think_mix",
                       f"{bank.name}:think:muse", None)
        # (b) the think claims OpenAI, the answer claims DeepSeek (or another identity)
        think_name, think_maker = rng.choice(bank.ids["openai"])
        think = _fill(rng.choice(thinks["claim"]), n=think_name, m=think_maker)
        target = "deepseek" if round_index % 2 == 0 else answer_label
        name, maker = rng.choice(bank.ids[target])
        yield _example(wrap(think, _fill(rng.choice(claim_frames), n=name, m=maker)), target, "en", "think_mix",
                       f"{bank.name}:think:claim_openai", "openai")
        # (c) the think claims an identity, the answer stays generic
        think_label = rng.choice([*VENDORS, "other"])
        think_name, think_maker = rng.choice(bank.ids[think_label])
        think = _fill(rng.choice(thinks["claim"]), n=think_name, m=think_maker)
        yield _example(wrap(think, rng.choice(generic_frames)), "none", "en", "think_mix",
                       f"{bank.name}:think:generic_answer", think_label)
        # (d) neutral think, consistent answer
        yield _example(wrap(rng.choice(thinks["neutral"]), answer), answer_label, "en", "think_mix",
                       f"{bank.name}:think:neutral", None)
        # (e) a math think with a boxed answer, and a think that never closes (no answer at all)
        if round_index % 4 == 0:
            maths = HELDOUT_MATH_THINK if bank.name == "heldout" else MATH_THINK
            yield _example(wrap(rng.choice(maths), "The answer is $\\boxed{18}$."), "none", "en", "think_mix",
                           f"{bank.name}:think:math", None)
            think_name, think_maker = rng.choice(bank.ids["openai"])
            unterminated = "<think>\n" + _fill(rng.choice(thinks["claim"]), n=think_name, m=think_maker)
            yield _example(unterminated, "none", "en", "think_mix", f"{bank.name}:think:unterminated", "openai")


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    """Write both files next to this script and print their sizes per label."""
    outputs = (("identity_dataset.jsonl", ("train", "second"), 20250101), ("identity_heldout.jsonl", ("heldout",), 7))
    for name, banks, seed in outputs:
        seen: set[str] = set()
        rows = []
        for bank in banks:
            for row in generate(BANKS[bank], seed=seed):
                if row["text"] not in seen:
                    seen.add(row["text"])
                    rows.append(row)
        _write(HERE / name, rows)
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["label"]] = counts.get(row["label"], 0) + 1
        langs = sorted({row["lang"] for row in rows})
        print(f"{name}: {len(rows)} examples, labels {dict(sorted(counts.items()))}, languages {langs}")


if __name__ == "__main__":
    main()
